package mapping

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sagebridge/sagebridge/internal/config"
)

// profileNameRe is SageMaker's UserProfileName pattern, anchored.
var profileNameRe = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)

// sessionNameRe is STS's RoleSessionName and SourceIdentity pattern.
var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func TestFoldTable(t *testing.T) {
	if len(foldTable) != 0x180-foldFirst {
		t.Fatalf("foldTable has %d entries, want %d", len(foldTable), 0x180-foldFirst)
	}
	for _, tt := range []struct {
		r    rune
		want string
	}{
		{'À', "A"}, {'ß', "ss"}, {'×', ""}, {'÷', ""}, {'ÿ', "y"}, {'Ā', "A"}, {'ł', "l"}, {'Œ', "OE"}, {'ž', "z"}, {'ſ', "s"},
	} {
		if got := foldTable[tt.r-foldFirst]; got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestSanitizeHashIsStable(t *testing.T) {
	s := newSanitizer(config.Sanitize{Lowercase: true, Transliterate: true, ReplaceWith: "-", MaxLength: 20, TooLong: config.TooLongHash})
	a1, err1 := s.apply(strings.Repeat("a", 30) + "1")
	a2, err2 := s.apply(strings.Repeat("a", 30) + "1")
	b, err3 := s.apply(strings.Repeat("a", 30) + "2")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if a1 != a2 || a1 == b || len(a1) != 20 || !strings.HasPrefix(a1, strings.Repeat("a", 11)+"-") {
		t.Errorf("hashed %q %q %q", a1, a2, b)
	}
}

// FuzzSanitize: whatever the input and settings, the sanitiser never
// panics, and its output is a valid profile name, RoleSessionName and tag
// value within maxLength, or an InvalidUserIDError.
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{"jane.doe@example.com", "José Müßig", "Иван", "", "-", "a", "ab", "__a__b__",
		strings.Repeat("x.", 70), "\xff\xfe", "a\x00b", "ǅ", "ÀÆ×ß"} {
		f.Add(seed, uint8(63), uint8(0), true, true, true)
	}
	f.Fuzz(func(t *testing.T, raw string, maxLen, tooLong uint8, lower, translit, hyphen bool) {
		s := sanitizer{lower: lower, translit: translit, hyphen: hyphen,
			max: 10 + int(maxLen)%54, tooLong: []string{config.TooLongHash, config.TooLongTruncate, config.TooLongRefuse}[tooLong%3]}
		out, err := s.apply(raw)
		if err != nil {
			var ie *InvalidUserIDError
			if !asInvalid(err, &ie) || ie.Value != raw {
				t.Fatalf("apply(%q) error %v is not an InvalidUserIDError for the input", raw, err)
			}
			return
		}
		if !profileNameRe.MatchString(out) || !sessionNameRe.MatchString(out) || len(out) > s.max || config.CheckTagValue(out) != nil {
			t.Fatalf("apply(%q) = %q (max %d): not a valid userId", raw, out, s.max)
		}
		if lower && strings.ToLower(out) != out {
			t.Fatalf("apply(%q) = %q: not lower case", raw, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("apply(%q) = %q: invalid UTF-8", raw, out)
		}
	})
}

func asInvalid(err error, target **InvalidUserIDError) bool {
	ie, ok := err.(*InvalidUserIDError)
	*target = ie
	return ok
}
