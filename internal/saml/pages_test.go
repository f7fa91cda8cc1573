package saml

import (
	mrand "math/rand/v2"
	"net/http/httptest"
	"testing"
)

// The post page written from its cut-up copy is byte for byte what
// postTemplate writes, headers included, whatever the values.
func TestPostPageMatchesTemplate(t *testing.T) {
	dest := "https://signin.aws.amazon.com/saml"
	p, err := newPostPage(dest)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"", "PHNhbWxwOlJlc3BvbnNlIC8+", "a+b/c==", `<script>"x"&'y'</script>`, "\x00nul", "\xff\xfe bad utf-8", "Zoë ✓ 𝄞", "\ufdd0\ufffe", "javascript:alert(1)"}
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		values = append(values, string(b))
	}
	for _, resp := range values {
		for _, relay := range values[:12] {
			is := &issued{encoded: []byte(resp), relayState: relay, destination: dest}
			got, want := httptest.NewRecorder(), httptest.NewRecorder()
			if err := p.write(got, is); err != nil {
				t.Fatal(err)
			}
			if err := writePost(want, is); err != nil {
				t.Fatal(err)
			}
			if got.Body.String() != want.Body.String() {
				t.Fatalf("response %q, RelayState %q:\n got %s\nwant %s", resp, relay, got.Body, want.Body)
			}
			for k, v := range want.Header() {
				if g := got.Header().Values(k); len(g) != len(v) || g[0] != v[0] {
					t.Fatalf("header %s: %q, want %q", k, g, v)
				}
			}
		}
	}
	// Another destination goes through the template.
	other := &issued{encoded: []byte("x"), destination: "https://signin.amazonaws-us-gov.com/saml"}
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	_ = p.write(got, other)
	_ = writePost(want, other)
	if got.Body.String() != want.Body.String() || got.Header().Get("Content-Security-Policy") != want.Header().Get("Content-Security-Policy") {
		t.Fatal("a response to another destination is not the template's page")
	}
}
