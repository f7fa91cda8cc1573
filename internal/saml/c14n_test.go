package saml

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// referenceCanonical is goxmldsig's exclusive c14n of el as the upstream
// verification used it before canonicalize: el detached with the
// namespaces in scope, the child skip removed, TransformExcC14n, and
// goxmldsig's canonical serialisation.
func referenceCanonical(el, skip *etree.Element, prefixList string) ([]byte, error) {
	det, err := detach(el)
	if err != nil {
		return nil, err
	}
	if skip != nil {
		det.RemoveChildAt(skip.Index())
	}
	return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(det)
}

// detach copies el with the namespaces in scope declared on it, as
// goxmldsig does before it canonicalizes.
func detach(el *etree.Element) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err == nil {
		ctx, err = ctx.SubContext(el)
	}
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}

// FuzzCanonicalize holds canonicalize to goxmldsig's exclusive c14n: for
// any element of any document parseXML accepts, any prefix list, with or
// without a child left out, both give the same bytes or both refuse.
func FuzzCanonicalize(f *testing.F) {
	e := newEnv(f, envOptions{idpInit: true})
	r := e.validResponse("alice@example.com", t0)
	r.signResponse = true
	r.attrs = map[string]string{"email": "alice@example.com"}
	f.Add(r.xml(f), "", uint8(0), uint8(1))
	f.Add(r.xml(f), "xs", uint8(5), uint8(1))
	for _, s := range []string{
		`<p:a xmlns:p="u1" xmlns:xs="u2" xmlns:xsi="u3"><p:v xsi:type="xs:string" b="1" a="2">t&amp;&lt;&gt;"'` + "\r\t\n" + `</p:v></p:a>`,
		`<a xmlns="d"><b xmlns=""><c/></b><p:d xmlns:p="d" p:x="1" x="2" q:y="3" xmlns:q="e"/></a>`,
		`<r xmlns:p="u"><p:a xmlns:p="u" xmlns:q="v"><q:b q:c="1" p:c="2"/></p:a></r>`,
		`<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en"><b xml:space="preserve"> x </b></a>`,
		`<a xmlns:xml="wrong"/>`, `<a xmlns:xmlns="x"/>`, `<a xmlns="http://www.w3.org/2000/xmlns/"/>`, `<p:a/>`, `<a p:b="1"/>`,
		`<p:a xmlns:p="u"><p:b xmlns:p="w"><p:c xmlns:p="u"/></p:b></p:a>`,
	} {
		f.Add([]byte(s), "p xs #default q", uint8(0), uint8(0))
		f.Add([]byte(s), "", uint8(1), uint8(0))
	}
	f.Fuzz(func(t *testing.T, doc []byte, prefixList string, pick, skipPick uint8) {
		root, err := parseXML(doc)
		if err != nil {
			return
		}
		var all []*etree.Element
		walk(root, func(el *etree.Element) { all = append(all, el) })
		el := all[int(pick)%len(all)]
		var skip *etree.Element
		if kids := el.ChildElements(); len(kids) > 0 && skipPick%4 != 0 {
			skip = kids[int(skipPick)%len(kids)]
		}
		got, err := canonicalize(el, skip, prefixList)
		want, werr := referenceCanonical(el, skip, prefixList)
		if (err == nil) != (werr == nil) {
			t.Fatalf("canonicalize: %v; goxmldsig: %v\n%s", err, werr, doc)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("prefix list %q, element %s:\n got %s\nwant %s", prefixList, el.FullTag(), got, want)
		}
	})
}
