package pipeline

import (
	"context"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver"
)

// A run that stops for its own reasons (here a setup error on another
// connection; also the give-up streak or a ledger failure) is no
// shutdown: the messages already on the wire finish and are marked. Were
// they cut after the SMTP pool's grace, a message the server took slowly
// would be left in doubt and mailed again by the next run.
func TestSetupStopLetsOtherMessagesFinish(t *testing.T) {
	f := newSendFixture(t, 3)
	srv := startSMTP(t)
	inData := make(chan struct{})
	srv.Data = func(to string, _ int) error {
		if to == "r000@example.org" {
			close(inData)
			time.Sleep(800 * time.Millisecond) // a scanning server, slower than the grace
		}
		return nil
	}
	smtp, err := deliver.NewSMTP(deliver.SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "none", Connections: 2,
		From: "digest@example.net", Timeout: 10 * time.Second, Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	f.sender.Workers = 2
	f.sender.PageSize = 500
	f.sender.Deliver = func(ctx context.Context, m digest.Message) (string, error) {
		id := "<" + m.To + ">"
		if m.To != "r000@example.org" {
			<-inData
			return id, setupErr{} // e.g. 530 to MAIL FROM on this connection
		}
		body := "From: digest@example.net\r\nTo: " + m.To + "\r\nMessage-ID: " + id + "\r\nSubject: x\r\n\r\nbody\r\n"
		return id, smtp.TrySend(ctx, deliver.Outgoing{IssueID: m.IssueID, From: "digest@example.net", To: m.To, MessageID: id, Body: []byte(body)})
	}
	f.send(t, context.Background())
	rows, err := f.st.Deliveries(context.Background(), f.is.ID, digest.DeliverySent, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Email != "r000@example.org" {
		t.Errorf("sent rows %+v, want r000's alone: its slow message was cut and left in doubt, to be mailed again", rows)
	}
	if got := copies(srv)["r000@example.org"]; got != 1 {
		t.Errorf("the server has %d copies for r000, want 1", got)
	}
}
