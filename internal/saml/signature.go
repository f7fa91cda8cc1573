package saml

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// nsExcC14n is the namespace of exclusive c14n's InclusiveNamespaces.
const nsExcC14n = "http://www.w3.org/2001/10/xml-exc-c14n#"

// Algorithms accepted on an upstream signature (SIG-2): exclusive c14n and
// the enveloped-signature transform only; SHA-2 digests and RSA or ECDSA
// signatures. SHA-1 is refused.
var (
	signatureAlgorithms = map[string]x509.SignatureAlgorithm{
		dsig.RSASHA256SignatureMethod: x509.SHA256WithRSA, dsig.RSASHA384SignatureMethod: x509.SHA384WithRSA, dsig.RSASHA512SignatureMethod: x509.SHA512WithRSA,
		dsig.ECDSASHA256SignatureMethod: x509.ECDSAWithSHA256, dsig.ECDSASHA384SignatureMethod: x509.ECDSAWithSHA384, dsig.ECDSASHA512SignatureMethod: x509.ECDSAWithSHA512,
	}
	digestAlgorithms = map[string]crypto.Hash{
		"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
		"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
	}
)

// signedInfo is what a verified SignedInfo says about its one Reference.
type signedInfo struct {
	algorithm  x509.SignatureAlgorithm
	digest     crypto.Hash
	digestVal  []byte
	prefixList string // the exclusive c14n transform's InclusiveNamespaces
}

// verifySignature verifies the enveloped signature of el, a signed
// element whose one ds:Signature is a direct child (shape checked that),
// against the upstream certificates, and returns the signed element as
// parsed back from the canonical bytes its digest covers: what is read
// from it is what was signed, and nothing else.
//
// It is goxmldsig's ValidationContext.Validate step for step, with the
// same exclusive c14n (canonicalize writes goxmldsig's bytes, c14n_test.go
// compares), without what Validate adds to it at a cost: copies of the
// element and a namespace map per element for the c14n, the Signature
// re-serialised and decoded with encoding/xml twice, the certificate in
// KeyInfo parsed before it is compared with the trusted ones (it is
// compared byte for byte, as x509.Certificate.Equal does). What the
// signature is checked against is unchanged: the canonical SignedInfo,
// verified with a certificate from the upstream metadata valid now; the
// Reference, read from that canonical SignedInfo as parsed back, naming
// el; el's exclusive canonical form without the signature, digested and
// compared, and parsed back as the signed element.
func verifySignature(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	id := el.SelectAttrValue("ID", "")
	if id == "" {
		return nil, errors.New("signed element has no ID")
	}
	sig := only(children(el, nsDSig, "Signature"))
	if err := checkSignatureShape(sig); err != nil {
		return nil, err
	}
	canonicalSI, err := canonicalize(only(children(sig, nsDSig, "SignedInfo")), nil, "")
	if err != nil {
		return nil, fmt.Errorf("canonicalize SignedInfo: %w", err)
	}
	// What the signature covers is read from the bytes it covers.
	si, err := parseXML(canonicalSI)
	if err != nil {
		return nil, fmt.Errorf("reparse SignedInfo: %w", err)
	}
	info, err := readSignedInfo(si, id)
	if err != nil {
		return nil, err
	}
	sv := only(children(sig, nsDSig, "SignatureValue"))
	value, err := base64.StdEncoding.DecodeString(text(sv))
	if err != nil {
		return nil, errors.New("SignatureValue is not base64")
	}
	cert, err := signingCert(sig, certs, now)
	if err != nil {
		return nil, err
	}
	if err := cert.CheckSignature(info.algorithm, canonicalSI, value); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	// The enveloped-signature transform, then exclusive c14n.
	canonical, err := canonicalize(el, sig, info.prefixList)
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	h := info.digest.New()
	h.Write(canonical)
	if sum := h.Sum(nil); len(sum) < 20 || !bytes.Equal(sum, info.digestVal) {
		return nil, errors.New("digest mismatch: the signed element was changed")
	}
	signed, err := parseXML(canonical)
	if err != nil {
		return nil, fmt.Errorf("reparse the signed element: %w", err)
	}
	return signed, nil
}

// checkSignatureShape holds the Signature to what goxmldsig accepts: one
// SignedInfo, one SignatureValue, at most one KeyInfo, by local name.
func checkSignatureShape(sig *etree.Element) error {
	if sig == nil {
		return errors.New("no single Signature")
	}
	counts := map[string]int{}
	for _, c := range sig.ChildElements() {
		counts[c.Tag]++
	}
	if counts["SignedInfo"] != 1 || counts["SignatureValue"] != 1 || counts["KeyInfo"] > 1 ||
		only(children(sig, nsDSig, "SignedInfo")) == nil || only(children(sig, nsDSig, "SignatureValue")) == nil {
		return errors.New("the Signature needs one SignedInfo, one SignatureValue and at most one KeyInfo")
	}
	return nil
}

// readSignedInfo holds a (canonical) SignedInfo to SIG-2: exclusive c14n;
// an accepted signature method; exactly one Reference, to "#" + the ID of
// the element the signature sits in, with exactly the enveloped-signature
// and exclusive c14n transforms and a SHA-2 digest.
func readSignedInfo(si *etree.Element, id string) (*signedInfo, error) {
	var info signedInfo
	if c := only(children(si, nsDSig, "CanonicalizationMethod")); c == nil || c.SelectAttrValue("Algorithm", "") != dsig.CanonicalXML10ExclusiveAlgorithmId.String() {
		return nil, errors.New("CanonicalizationMethod is not exclusive c14n")
	}
	m := only(children(si, nsDSig, "SignatureMethod"))
	if m == nil {
		return nil, errors.New("SignatureMethod missing")
	}
	var ok bool
	if info.algorithm, ok = signatureAlgorithms[m.SelectAttrValue("Algorithm", "")]; !ok {
		return nil, fmt.Errorf("SignatureMethod %q not accepted (SHA-2 RSA or ECDSA only)", m.SelectAttrValue("Algorithm", ""))
	}
	ref := only(children(si, nsDSig, "Reference"))
	if ref == nil {
		return nil, errors.New("not exactly one Reference")
	}
	if uri := ref.SelectAttrValue("URI", ""); uri != "#"+id {
		return nil, fmt.Errorf("Reference URI %q does not name the signed element #%s", uri, id)
	}
	var err error
	if info.prefixList, err = readTransforms(ref); err != nil {
		return nil, err
	}
	d := only(children(ref, nsDSig, "DigestMethod"))
	if d == nil {
		return nil, errors.New("DigestMethod missing")
	}
	if info.digest, ok = digestAlgorithms[d.SelectAttrValue("Algorithm", "")]; !ok {
		return nil, fmt.Errorf("DigestMethod %q not accepted (SHA-2 only)", d.SelectAttrValue("Algorithm", ""))
	}
	dv := only(children(ref, nsDSig, "DigestValue"))
	if dv == nil {
		return nil, errors.New("DigestValue missing")
	}
	if info.digestVal, err = base64.StdEncoding.DecodeString(text(dv)); err != nil {
		return nil, errors.New("DigestValue is not base64")
	}
	return &info, nil
}

// readTransforms requires the two transforms of an enveloped signature,
// and nothing else, and returns the c14n transform's prefix list.
func readTransforms(ref *etree.Element) (string, error) {
	ts := only(children(ref, nsDSig, "Transforms"))
	if ts == nil {
		return "", errors.New("no single Transforms")
	}
	var enveloped, exc int
	var prefixList string
	for _, t := range ts.ChildElements() {
		if !is(t, nsDSig, "Transform") {
			return "", fmt.Errorf("unexpected %s in Transforms", t.FullTag())
		}
		switch alg := t.SelectAttrValue("Algorithm", ""); alg {
		case dsig.EnvelopedSignatureAltorithmId.String():
			enveloped++
		case dsig.CanonicalXML10ExclusiveAlgorithmId.String():
			exc++
			if in := only(children(t, nsExcC14n, "InclusiveNamespaces")); in != nil {
				prefixList = in.SelectAttrValue("PrefixList", "")
			}
		default:
			return "", fmt.Errorf("transform %q not accepted", alg)
		}
	}
	if enveloped != 1 || exc != 1 {
		return "", errors.New("the transforms must be enveloped-signature and exclusive c14n, once each")
	}
	return prefixList, nil
}

// signingCert picks the certificate to verify with, as goxmldsig does: the
// one KeyInfo carries, which must be one of the trusted certificates, or
// without KeyInfo the only trusted one; it must be valid now.
func signingCert(sig *etree.Element, certs []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	var cert *x509.Certificate
	if ki := only(children(sig, nsDSig, "KeyInfo")); ki != nil {
		var data string
		if xd := first(children(ki, nsDSig, "X509Data")); xd != nil {
			if xc := first(children(xd, nsDSig, "X509Certificate")); xc != nil {
				data = strings.Join(strings.Fields(text(xc)), "")
			}
		}
		if data == "" {
			return nil, errors.New("missing X509Certificate within KeyInfo")
		}
		der, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, errors.New("the KeyInfo certificate is not base64")
		}
		for _, c := range certs {
			if bytes.Equal(c.Raw, der) {
				cert = c
				break
			}
		}
		if cert == nil {
			return nil, errors.New("the KeyInfo certificate is not one of the upstream IdP's")
		}
	} else {
		if len(certs) != 1 {
			return nil, errors.New("no KeyInfo, and the upstream IdP has several certificates")
		}
		cert = certs[0]
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errors.New("the upstream IdP's certificate is not valid now")
	}
	return cert, nil
}

// first returns the first element of list, nil when there is none.
func first(list []*etree.Element) *etree.Element {
	if len(list) == 0 {
		return nil
	}
	return list[0]
}
