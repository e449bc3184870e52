package render

import (
	"slices"

	"gull/digest"
)

// forReaders is the issue as readers get it after the editor's choices: a
// hidden article is gone (an entry with its story's other coverage, an
// outlet's article from a story's coverage), sections left empty are
// dropped, and pinned articles lead their section in the order they had.
// It copies what it changes: the caller's issue may be shared (Batch, a
// stored draft).
func forReaders(is digest.Issue) digest.Issue {
	if !edited(is) {
		return is
	}
	out := is
	out.Sections = nil
	for _, s := range is.Sections {
		var arts []digest.Article
		for _, a := range s.Articles {
			if a.Hidden {
				continue
			}
			if slices.ContainsFunc(a.Also, func(o digest.Article) bool { return o.Hidden }) {
				a.Also = slices.DeleteFunc(slices.Clone(a.Also), func(o digest.Article) bool { return o.Hidden })
			}
			arts = append(arts, a)
		}
		// Stable: pinned first, each group in its own order.
		slices.SortStableFunc(arts, func(a, b digest.Article) int {
			switch {
			case a.Pinned == b.Pinned:
				return 0
			case a.Pinned:
				return -1
			}
			return 1
		})
		if len(arts) > 0 {
			s.Articles = arts
			out.Sections = append(out.Sections, s)
		}
	}
	return out
}

// edited reports whether any article is hidden or pinned, so an issue
// nobody edited is passed on as it is, without a copy.
func edited(is digest.Issue) bool {
	for _, s := range is.Sections {
		for _, a := range s.Articles {
			if a.Hidden || a.Pinned || slices.ContainsFunc(a.Also, func(o digest.Article) bool { return o.Hidden }) {
				return true
			}
		}
	}
	return false
}
