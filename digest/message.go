package digest

// Message is one rendered copy of an issue for one reader: what the
// delivery step turns into a MIME message.
type Message struct {
	IssueID string
	// To is the reader's address; ToName their name (may be empty).
	To     string
	ToName string
	// Subject is one line; the renderer removes line breaks from it, so no
	// header can be injected through a feed's title.
	Subject string
	HTML    string
	Text    string
	// UnsubscribeURL is the one-click link for the List-Unsubscribe header.
	UnsubscribeURL string
	// ArchiveURL is the issue's web copy ("view in browser").
	ArchiveURL string
	// Test marks a test send: not a delivery of the week's issue.
	Test bool
	// ReturnPath, when set, is this copy's envelope sender (a bare
	// address: mail.return_path with the reader's token); "" is
	// mail.from's address. The From header is mail.from either way.
	ReturnPath string
	// Framing, when set, says how HTML and Text were filled in from
	// frames shared with other readers (render.Batch), so their encoding
	// can be made once per frame.
	Framing *Framing
}
