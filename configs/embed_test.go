package configs

import (
	"testing"

	"github.com/sagebridge/sagebridge/internal/config"
)

// The embedded dev configuration must load with its policies from the
// binary alone: this is what `serve --dev` does.
func TestDevConfigLoadsFromTheEmbeddedFS(t *testing.T) {
	c, err := config.ParseFS(FS, DevPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS == nil || c.Mapping == nil {
		t.Fatal("dev.yaml has no aws or mapping section: dev mode would not sync")
	}
	if c.DataDir != "data" {
		t.Errorf("DataDir = %q, want data (relative to the working directory)", c.DataDir)
	}
	if _, err := c.Compile(); err != nil {
		t.Fatal(err)
	}
}
