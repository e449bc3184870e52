package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gull/digest/bounce"
)

// snsURL takes https URLs of SNS's regional hosts only: what a forged
// message names instead is never fetched.
func TestSNSURL(t *testing.T) {
	for _, ok := range []string{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.ap-northeast-2.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.cn-north-1.amazonaws.com.cn/x.pem",
		"https://sns.us-gov-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
	} {
		if _, err := snsURL(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"http://sns.us-east-1.amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com:444/x.pem",
		"https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
		"https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
		"https://sqs.us-east-1.amazonaws.com/x.pem",
		"https://sns.amazonaws.com/x.pem",
		"https://user@sns.us-east-1.amazonaws.com/x.pem",
		"https://sns.us-east-1.amazonaws.com@evil.example/x.pem",
		"https://xsns.us-east-1.amazonaws.com/x.pem",
		"https://127.0.0.1/x.pem",
		"//sns.us-east-1.amazonaws.com/x.pem",
		"",
	} {
		if _, err := snsURL(bad); err == nil {
			t.Errorf("%q taken as an SNS URL", bad)
		}
	}
}

// FuzzParse: no provider's body, however made, panics a parser or gives
// an event without a key, a kind, or a reason that is not one line of
// valid UTF-8 within bounce.MaxReason.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","feedbackId":"f","bouncedRecipients":[{"emailAddress":"a@b.c","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 사용자 없음"}]},"mail":{"source":"x@y.z"}}`))
	f.Add([]byte(`{"signature":{"timestamp":"1","token":"t","signature":"00"},"event-data":{"event":"failed","id":"i","severity":"permanent","recipient":"a@b.c","delivery-status":{"code":550,"message":"5.1.1 unknown"}}}`))
	f.Add([]byte(`[{"email":"a@b.c","event":"bounce","sg_event_id":"e","type":"bounce","status":"5.1.1","reason":"550 unknown"}]`))
	f.Add([]byte(`{"RecordType":"Bounce","ID":1,"Type":"HardBounce","Email":"a@b.c","Details":"550"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var all []Event
		if es, err := SESEvents(string(body), "sns-id"); err == nil {
			all = append(all, es...)
		}
		if _, es, err := ParseMailgun(body); err == nil {
			all = append(all, es...)
		}
		if es, err := ParseSendGrid(body); err == nil {
			all = append(all, es...)
		}
		if es, err := ParsePostmark(body); err == nil {
			all = append(all, es...)
		}
		ParseSNS(body)
		for _, e := range all {
			if e.ID == "" || e.Report.Kind == "" || len(e.Report.Recipients) == 0 {
				t.Fatalf("event without id, kind or recipient: %+v", e)
			}
			for _, rc := range e.Report.Recipients {
				if rc.Kind == "" || !utf8.ValidString(rc.Reason) || len(rc.Reason) > bounce.MaxReason || strings.ContainsAny(rc.Reason, "\r\n") {
					t.Fatalf("recipient %+v", rc)
				}
			}
		}
	})
}
