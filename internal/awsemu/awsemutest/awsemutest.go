// Package awsemutest starts an awsemu emulator for a test, as httptest
// starts a server: on loopback, closed when the test ends, and failing the
// test if any request made the emulator panic.
package awsemutest

import (
	"testing"

	"github.com/sagebridge/sagebridge/internal/awsemu"
)

// Start runs an emulator with opts and returns it with its base URL.
func Start(t testing.TB, opts awsemu.Options) (*awsemu.Emulator, string) {
	t.Helper()
	emu := awsemu.New(opts)
	url, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		emu.Close()
		if n := emu.Panics(); n != 0 {
			t.Errorf("the emulator panicked %d times", n)
		}
	})
	return emu, url
}
