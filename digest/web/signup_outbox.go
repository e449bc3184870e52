package web

import (
	"context"
	"encoding/json"
	"time"

	"gull/subscribers"
)

// Several instances of gull run may serve the pages over one store. A
// sign-up is answered at once and its confirmation mailed after, by the
// instance's workers: an instance that dies in between would take the
// mail with it. With an Outbox the sign-up is written to the store
// before the page is answered, and forgotten once its mail is sent; the
// instance renews its claim on the ones it is working on (SendOwed, on
// the caller's clock), and a sign-up whose claim lapsed is taken and
// mailed by another instance.

// SignUpOutbox keeps the sign-ups whose confirmation is owed (the
// store's signup_mails). The consumer's small interface.
type SignUpOutbox interface {
	// OweSignUp records a sign-up claimed by holder until until.
	OweSignUp(ctx context.Context, holder string, form []byte, at, until time.Time) (int64, error)
	// SignUpMailed forgets it: its mail went, or none was due.
	SignUpMailed(ctx context.Context, id int64) error
	// RenewSignUps extends holder's claims to until.
	RenewSignUps(ctx context.Context, holder string, until time.Time) error
	// ClaimLapsedSignUps gives holder up to n sign-ups whose claim lapsed
	// before now, each to one caller only.
	ClaimLapsedSignUps(ctx context.Context, holder string, now, until time.Time, n int) ([]OwedSignUp, error)
}

// OwedSignUp is a sign-up whose confirmation mail is owed.
type OwedSignUp struct {
	ID   int64
	Form []byte // the subscribers.Subscriber the form gave, as JSON
	At   time.Time
}

// defaultOwedClaim is how long an instance's claim on an owed sign-up
// lasts without renewal when OwedClaim is zero.
const defaultOwedClaim = time.Minute

func (p *SubscriberPages) owedClaim() time.Duration {
	if p.OwedClaim > 0 {
		return p.OwedClaim
	}
	return defaultOwedClaim
}

// owe is the work of the sign-up in, asked at now, recorded as owed
// first when there is an Outbox; forget drops the record when the work
// is refused (a full queue).
func (p *SubscriberPages) owe(ctx context.Context, in subscribers.Subscriber, now time.Time) (j job, forget func(), err error) {
	if p.Outbox == nil {
		return func(ctx context.Context) { p.signUp(ctx, in, now) }, func() {}, nil
	}
	form, err := json.Marshal(in)
	if err != nil {
		return nil, nil, err
	}
	id, err := p.Outbox.OweSignUp(ctx, p.Instance, form, now, now.Add(p.owedClaim()))
	if err != nil {
		return nil, nil, err
	}
	return p.owedJob(id, in, now), func() { p.Outbox.SignUpMailed(context.WithoutCancel(ctx), id) }, nil
}

// owedJob is the sign-up's work, and its record forgotten after. A job
// cut at shutdown stays owed: another instance (or this one restarted)
// sends it once the claim lapses.
func (p *SubscriberPages) owedJob(id int64, in subscribers.Subscriber, now time.Time) job {
	return func(ctx context.Context) {
		p.signUp(ctx, in, now)
		if p.st.signUps.ctx.Err() != nil {
			return
		}
		if err := p.Outbox.SignUpMailed(context.WithoutCancel(ctx), id); err != nil {
			p.log().Warn("could not record a confirmation mail as sent; another instance may send it again", "err", err)
		}
	}
}

// SendOwed renews this instance's claims on the sign-ups it works on,
// and takes those whose instance stopped or died (their claim lapsed)
// into its own queue. It returns how many it took. Call it at a third
// of OwedClaim or more often; with no Outbox it does nothing.
func (p *SubscriberPages) SendOwed(ctx context.Context) (int, error) {
	if p.Outbox == nil || p.st == nil {
		return 0, nil
	}
	now := p.now()
	until := now.Add(p.owedClaim())
	if err := p.Outbox.RenewSignUps(ctx, p.Instance, until); err != nil {
		return 0, err
	}
	owed, err := p.Outbox.ClaimLapsedSignUps(ctx, p.Instance, now, until, signUpQueue/4)
	if err != nil {
		return 0, err
	}
	taken := 0
	for _, o := range owed {
		var in subscribers.Subscriber
		if err := json.Unmarshal(o.Form, &in); err != nil {
			p.log().Error("an owed sign-up is unreadable; dropped (the reader can sign up again)", "err", err)
			p.Outbox.SignUpMailed(ctx, o.ID)
			continue
		}
		if !p.st.signUps.enqueue(p.owedJob(o.ID, in, now)) {
			break // full or stopping: the rest lapse again and come back
		}
		taken++
	}
	return taken, nil
}
