// Package suggest finds the nearest valid value to a mistyped one, for the
// "did you mean" part of an error message.
package suggest

import (
	"sort"
	"strings"
)

// Nearest returns the candidate closest to word by edit distance (case
// differences count as half a step, so "natmode" finds "natMode" first),
// or "" when none is close enough to be a likely typo: at most a third of
// the word's length, and never more than 3 edits.
func Nearest(word string, candidates []string) string {
	best, bestScore := "", -1
	limit := min(3, max(1, len(word)/3)) * 2
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		score := 2*Distance(strings.ToLower(word), strings.ToLower(c)) + Distance(word, c) - Distance(strings.ToLower(word), strings.ToLower(c))
		if score <= limit && (bestScore < 0 || score < bestScore) {
			best, bestScore = c, score
		}
	}
	return best
}

// DidYouMean is "; did you mean X?" for the nearest candidate, or "".
func DidYouMean(word string, candidates []string) string {
	if n := Nearest(word, candidates); n != "" && n != word {
		return "; did you mean " + n + "?"
	}
	return ""
}

// Distance is the Levenshtein distance between a and b (bytes).
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
