package bounce

// Diagnose reads one recipient's failure as a provider reports it in its
// own fields rather than in a DSN (a webhook: SES's diagnosticCode,
// Mailgun's delivery-status, SendGrid's reason): status is the enhanced
// code when the provider gives one ("" when not), text the remote
// server's words. It returns the status (found in text when not given),
// the kind the code and words mean ("" when they say nothing: the
// provider's own classification decides) and the reason, one line of at
// most MaxReason bytes, as Parse gives them for a DSN.
func Diagnose(status, text string) (string, Kind, string) {
	if status = statusIn(" " + status + " "); status == "" {
		status = statusIn(text)
	}
	return status, classify("failed", status, text), reasonFrom(text, status)
}
