package bounce

import "strings"

// Diagnose reads one recipient's failure as a provider reports it in its
// own fields rather than in a DSN (a webhook: SES's diagnosticCode,
// Mailgun's delivery-status, SendGrid's reason): status is the enhanced
// code when the provider gives one ("" when not), text the remote
// server's words. It returns the status (found in text when not given),
// the kind the code and words mean ("" when they say nothing: the
// provider's own classification decides) and the reason, one line of at
// most MaxReason bytes, as Parse gives them for a DSN.
func Diagnose(status, text string) (string, Kind, string) {
	status = statusIn(" " + status + " ")
	// A generic status (a bare 550 as 5.0.0) where the words say more,
	// as for a DSN's Diagnostic-Code.
	if t := statusIn(text); t != "" && (status == "" || strings.HasSuffix(status, ".0.0") && t[0] == status[0]) {
		status = t
	}
	return status, classify("failed", status, text), reasonFrom(text, status)
}
