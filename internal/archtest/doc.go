// Package archtest holds tests about the code base itself: which packages
// may import which, so the layering of DESIGN.md cannot erode silently.
package archtest
