package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// There is no container engine here, so the Dockerfile's build is checked
// the other way round: TestMain builds the daemon every test runs with the
// Dockerfile's own `go build` line (env, flags), and this test checks what
// that line makes and what the image around it declares.

const dockerfile = "../../Dockerfile"

// dockerBuild returns the environment and the go command arguments of the
// Dockerfile's `RUN ... go build` line, building into out from this
// package's directory.
func dockerBuild(out string) (env, args []string, err error) {
	f, err := os.Open(dockerfile)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "RUN ")
		if !ok || !strings.Contains(line, " go build ") {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %q: %w", dockerfile, line, err)
		}
		i := slices.Index(words, "go")
		env, args = words[:i], words[i+1:]
		for j := range args {
			switch {
			case j > 0 && args[j-1] == "-o":
				args[j] = out
			case args[j] == "./cmd/bridge":
				args[j] = "."
			}
		}
		return env, args, nil
	}
	return nil, nil, fmt.Errorf("%s has no RUN ... go build line", dockerfile)
}

// shellWords splits a command line as sh does for the quoting the
// Dockerfile uses: blanks separate words, single quotes group.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`", r) && !quoted:
			return nil, fmt.Errorf("unsupported shell syntax %q", r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	f, err := elf.Open(bridgeBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names a dynamic loader: it would not run on a static image")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	info, err := buildinfo.ReadFile(bridgeBin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
		}
	}
}

func TestDockerfileImageIsMinimalAndNonRoot(t *testing.T) {
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	// The last stage is the image.
	stages := strings.Split(string(b), "\nFROM ")
	image := "FROM " + stages[len(stages)-1]
	for _, want := range []string{
		"FROM gcr.io/distroless/static",
		"\nUSER nonroot:nonroot\n",
		// distroless's nonroot is 65532: a volume on /data starts as the
		// image's directory, which it must be able to write.
		"\nCOPY --from=build --chown=65532:65532 /out/data /data\n",
		"\nVOLUME [\"/data\"]\n",
		"\nENTRYPOINT [\"/usr/local/bin/bridge\"]\n",
		`"--data", "/data"`,
	} {
		if !strings.Contains(image, want) {
			t.Errorf("the image stage lacks %q:\n%s", want, image)
		}
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/bridge ./cmd/bridge`)
	want := []string{"CGO_ENABLED=0", "go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/bridge", "./cmd/bridge"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("shellWords = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{`go build -ldflags='-s`, `go build "$X"`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) accepted", bad)
		}
	}
}
