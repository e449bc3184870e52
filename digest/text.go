package digest

// Text is a name or title in each of the reader languages: a theme's name
// ({ko: 반도체와 컴퓨팅, en: Compute & Chips}), the newsletter's title. A
// plain string in the config fills both.
type Text struct {
	Ko string `json:"ko,omitempty"`
	En string `json:"en,omitempty"`
}

// Same is a Text that reads s in every language.
func Same(s string) Text { return Text{Ko: s, En: s} }

// In is the text in lang ("ko" or "en"), else in the other language when
// only that one is set.
func (t Text) In(lang string) string {
	if lang == "ko" {
		if t.Ko != "" {
			return t.Ko
		}
		return t.En
	}
	if t.En != "" {
		return t.En
	}
	return t.Ko
}
