package awsemu

import (
	"fmt"
	"testing"
)

// A page after a cursor holds the next matching items in either order,
// and costs the same however deep into the listing the cursor is: a full
// listing of many profiles stays linear.
func TestPageBySeq(t *testing.T) {
	items := make([]uint64, 10_000)
	for i := range items {
		items[i] = uint64(i+1) * 2 // seqs have gaps, as after deletions
	}
	for _, tt := range []struct {
		name     string
		desc     bool
		after    string
		want     string
		wantNext uint64
	}{
		{"first page", false, "", "[2 6 10]", 10},
		{"deep page", false, "15000", "[15002 15006 15010]", 15010},
		{"cursor between seqs", false, "15001", "[15002 15006 15010]", 15010},
		{"deep page, descending", true, "15000", "[14998 14994 14990]", 14990},
		{"last page", false, "19990", "[19994 19998]", 0},
		{"last page, descending", true, "8", "[6 2]", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			looked := 0
			odd := func(s uint64) bool { looked++; return s%4 == 2 }
			page, next, err := pageBySeq(items, func(s uint64) uint64 { return s }, odd, tt.desc, tt.after, 3)
			if err != nil {
				t.Fatal(err)
			}
			wantNext := ""
			if tt.wantNext != 0 {
				wantNext = encodeCursor(fmt.Sprint(tt.wantNext))
			}
			if fmt.Sprint(page) != tt.want || next != wantNext {
				t.Errorf("page %v next %q, want %s next %q", page, next, tt.want, wantNext)
			}
			if looked > 8 {
				t.Errorf("looked at %d items for a page of 3", looked)
			}
		})
	}
}
