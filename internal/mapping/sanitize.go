package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sagebridge/sagebridge/internal/config"
)

// sanitizer makes an expression's result a valid userId. Its output always
// matches ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (a SageMaker profile name) and
// has at least two characters, so it is also a valid RoleSessionName,
// SourceIdentity and tag value; anything else is an InvalidUserIDError.
type sanitizer struct {
	lower, translit, hyphen bool
	max                     int
	tooLong                 string
}

func newSanitizer(s config.Sanitize) sanitizer {
	return sanitizer{
		lower:    s.Lowercase,
		translit: s.Transliterate,
		hyphen:   s.ReplaceWith == "-",
		max:      s.MaxLength,
		tooLong:  s.TooLong,
	}
}

// hashLen is the number of hex digits a hashed userId ends with: 32 bits,
// enough that two long values sharing a prefix do not collide by accident
// (and if they ever do, collision detection refuses the second user).
const hashLen = 8

func (s sanitizer) apply(raw string) (string, error) {
	b := make([]byte, 0, min(len(raw), 256))
	gap := false // a run of other characters is pending
	for _, r := range raw {
		var keep string
		switch {
		case r < 0x80 && isAlnum(byte(r)):
			b = s.emit(b, &gap)
			b = append(b, s.fold(byte(r)))
			continue
		case s.translit && r >= foldFirst && int(r-foldFirst) < len(foldTable):
			keep = foldTable[r-foldFirst]
		}
		if keep == "" {
			gap = true
			continue
		}
		b = s.emit(b, &gap)
		for i := 0; i < len(keep); i++ {
			b = append(b, s.fold(keep[i]))
		}
	}
	if len(b) == 0 {
		return "", &InvalidUserIDError{Value: raw, Rule: "no letter or digit is left after sanitising (a SageMaker profile name needs one)"}
	}
	if len(b) > s.max {
		switch s.tooLong {
		case config.TooLongRefuse:
			return "", &InvalidUserIDError{Value: raw, Rule: fmt.Sprintf("longer than mapping.sanitize.maxLength (%d) after sanitising", s.max)}
		case config.TooLongTruncate:
			b = trimHyphens(b[:s.max])
		default:
			sum := sha256.Sum256(b)
			h := hex.EncodeToString(sum[:hashLen/2])
			b = append(trimHyphens(b[:s.max-hashLen-1]), '-')
			b = append(b, h...)
		}
	}
	if len(b) < config.MinSessionNameLen {
		return "", &InvalidUserIDError{Value: raw, Rule: fmt.Sprintf("%q is shorter than %d characters, the minimum of RoleSessionName and SourceIdentity", b, config.MinSessionNameLen)}
	}
	return string(b), nil
}

// emit writes the hyphen a pending gap stands for. Gaps before the first
// letter and after the last are dropped, and runs collapse into one, so the
// result never starts or ends with a hyphen.
func (s sanitizer) emit(b []byte, gap *bool) []byte {
	if *gap && s.hyphen && len(b) > 0 {
		b = append(b, '-')
	}
	*gap = false
	return b
}

func (s sanitizer) fold(c byte) byte {
	if s.lower && 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func trimHyphens(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	return b
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// foldTable transliterates Latin-1 Supplement and Latin Extended-A
// (U+00C0-U+017F) into ASCII: the letters of European names. It is the
// compatibility decomposition without its marks, plus the letters that have
// none (ß, æ, ø, đ, ł, þ, ...). × and ÷ are not letters and map to nothing.
// Other scripts have no agreed ASCII spelling and count as separators;
// derive the userId from an ASCII attribute for such directories.
const foldFirst = 0xC0

var foldTable = parseFold(`
A A A A A A AE C E E E E I I I I D N O O O O O _ O U U U U Y TH ss
a a a a a a ae c e e e e i i i i d n o o o o o _ o u u u u y th y
A a A a A a C c C c C c C c D d D d E e E e E e E e E e G g G g G g G g
H h H h I i I i I i I i I i IJ ij J j K k k L l L l L l L l L l N n N n
N n n N n O o O o O o OE oe R r R r R r S s S s S s S s T t T t T t U u
U u U u U u U u U u W w Y y Y Z z Z z Z z s`)

// parseFold splits the table; "_" only keeps it aligned and means "none".
func parseFold(s string) []string {
	t := strings.Fields(s)
	for i, v := range t {
		if v == "_" {
			t[i] = ""
		}
	}
	return t
}
