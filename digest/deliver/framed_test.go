package deliver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"gull/digest"
	"gull/digest/render"
)

// The frame-at-a-time encoding is the Writer over the whole text, byte
// for byte, for frames full of what moves quoted-printable's line breaks:
// long lines with and without line ends, CR LF and bare LF, spaces and
// tabs before a line end (encoded) and at a soft break (not), '=', Hangul,
// slots at the start and end of lines and two on one line; and values of
// every length, Korean names and long addresses among them.
func TestFramedQPIsQP(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	atoms := []string{"a", "word ", "=", " ", "\t", "\n", "\r\n", "한글", "é", ".", "<td style=\"color:#333\">", strings.Repeat("x", 90), "\r", "  \n"}
	values := []string{"", "독자", "김 하늘", "reader@example.org", strings.Repeat("long.address", 20) + "@example.org",
		"https://news.example.org/unsubscribe?t=" + strings.Repeat("Ab9-_", 60), "Kim \"Sky\" Ha ", "tail\t", "=3D", "줄\n바꿈", "\r"}
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(atoms[rng.IntN(len(atoms))])
		}
		return b.String()
	}
	for round := range 3000 {
		slots := rng.IntN(6)
		f := &digest.Frame{}
		for i := 0; i <= slots; i++ {
			f.Lits = append(f.Lits, text(rng.IntN(40)))
			if i < slots {
				f.Slots = append(f.Slots, uint8(rng.IntN(4)))
			}
		}
		p := newQPFrame(f)
		for range 5 {
			vals := make([]string, 4)
			for i := range vals {
				vals[i] = values[rng.IntN(len(values))] + text(rng.IntN(3))
			}
			var whole strings.Builder
			for i, s := range f.Slots {
				whole.WriteString(f.Lits[i] + vals[s])
			}
			whole.WriteString(f.Lits[len(f.Lits)-1])
			if !f.Spells(vals, whole.String()) {
				t.Fatalf("round %d: the frame does not spell its own filling", round)
			}
			var got bytes.Buffer
			p.write(&got, f, vals)
			if want := encodeQP(whole.String()); got.String() != want {
				at := firstDiff(got.Bytes(), []byte(want))
				t.Fatalf("round %d: framed encoding differs at byte %d:\n got %q\nwant %q\nframe %q slots %v vals %q",
					round, at, got.String()[max(0, at-40):min(got.Len(), at+40)], want[max(0, at-40):min(len(want), at+40)], f.Lits, f.Slots, vals)
			}
		}
	}
}

// The issue's digest for many readers through render.Batch, composed with
// the frames' encoding (Compose with the Framing the batch sets) and
// without it (the same message, Framing removed): the same bytes, DKIM
// signature included, and the signature verifies. Readers have Korean
// and long names and addresses, and links of many lengths, so the soft
// line breaks after each value fall in ever other places.
func TestComposeFramedIsCompose(t *testing.T) {
	for _, lang := range []string{"en", "ko"} {
		t.Run(lang, func(t *testing.T) {
			is := framedIssue()
			r, err := render.New(render.Options{Lang: lang, Location: time.UTC, BaseURL: "https://news.example.org/",
				ThemeNames: map[string]string{"compute": "Compute · 반도체", "law": "Law · 법"}})
			if err != nil {
				t.Fatal(err)
			}
			key, err := LoadDKIM("example.org", "gull", rsaKeyFile(t, 2048, true))
			if err != nil {
				t.Fatal(err)
			}
			signed := time.Unix(1796000000, 0)
			key.now = func() time.Time { return signed }
			// The same boundary for both: the signature covers it.
			c := Composer{Envelope: Envelope{From: "AI Policy Weekly <digest@example.org>", ListName: "AI Policy Weekly"}, DKIM: key,
				boundary: "b0undary-the-test-fixes"}
			b := r.Batch(is)
			names := []string{"", "Reader", "김하늘", "박 서연", "Kim Sky Ha", "아주 긴 이름을 가진 독자 " + strings.Repeat("가", 60), strings.Repeat("Long", 40)}
			themes := [][]string{nil, {"compute"}, {"law"}, {"compute", "law"}}
			date := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
			framedParts := 0
			for i := range 120 {
				local := fmt.Sprintf("reader%d", i)
				if i%5 == 0 {
					local = strings.Repeat("very.long.local.part", 3) + fmt.Sprint(i)
				}
				to := render.Recipient{
					Email: local + "@" + strings.Repeat("sub", i%4) + "example.org", Name: names[i%len(names)],
					UnsubscribeURL: "https://news.example.org/unsubscribe?t=" + strings.Repeat("Tok", 10+i%37),
					PreferencesURL: "https://news.example.org/preferences?t=" + strings.Repeat("Pre", 5+i%23),
					Themes:         themes[i%len(themes)],
				}
				m, err := b.Render(to)
				if err != nil {
					t.Fatal(err)
				}
				if m.Framing == nil {
					continue // a full render: nothing to compare
				}
				for _, f := range framedPartsOf(m) {
					if f != nil {
						framedParts++
					}
				}
				fast, err := c.Compose(m, date)
				if err != nil {
					t.Fatal(err)
				}
				plain := m
				plain.Framing = nil
				slow, err := c.Compose(plain, date)
				if err != nil {
					t.Fatal(err)
				}
				// go-mail writes some headers in map order: compare them
				// as a set, the rest (the DKIM signature among the
				// headers, the body) byte for byte.
				gh, got, _ := bytes.Cut(fast.Body, []byte("\r\n\r\n"))
				wh, want, _ := bytes.Cut(slow.Body, []byte("\r\n\r\n"))
				if g, w := headerSet(gh), headerSet(wh); g != w {
					t.Fatalf("reader %q: framed composition's headers differ:\n got %s\nwant %s", to.Email, g, w)
				}
				if !bytes.Equal(got, want) {
					at := firstDiff(got, want)
					t.Fatalf("reader %q %q: framed composition differs at byte %d:\n got %q\nwant %q", to.Email, to.Name, at,
						got[max(0, at-80):min(len(got), at+80)], want[max(0, at-80):min(len(want), at+80)])
				}
				if i%10 == 0 {
					for _, v := range verifyDKIM(t, key, fast.Body) {
						if v.Err != nil {
							t.Fatalf("reader %s: DKIM signature of the framed message does not verify: %v", to.Email, v.Err)
						}
					}
				}
			}
			if framedParts < 100 {
				t.Fatalf("only %d parts were encoded from frames: the test does not exercise the fast path", framedParts)
			}
		})
	}
}

// headerSet is a header block's fields, unfolded and sorted.
func headerSet(block []byte) string {
	fields := strings.Split(strings.ReplaceAll(string(block), "\r\n ", "\r\n\t"), "\r\n")
	var joined []string
	for _, f := range fields {
		if strings.HasPrefix(f, "\t") && len(joined) > 0 {
			joined[len(joined)-1] += f
			continue
		}
		joined = append(joined, f)
	}
	slices.Sort(joined)
	return strings.Join(joined, "\n")
}

func framedPartsOf(m digest.Message) [2]*digest.Frame {
	return framedParts(m, [2]gomail.Encoding{bodyEncoding(m.Text), bodyEncoding(m.HTML)})
}

// framedIssue is a week of Korean and English columns, long enough that
// the digest's lines wrap and the summaries carry '=' and Hangul.
func framedIssue() digest.Issue {
	pub := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var arts []digest.Article
	for i := range 12 {
		a := digest.Article{
			ID: fmt.Sprint(i), FeedURL: "https://f.example/", FeedName: "서울 정책 칼럼",
			Title:     fmt.Sprintf("반도체 보조금과 AI 정책 %d: what 2+2=4 means for compute", i),
			Link:      fmt.Sprintf("https://columns.example.kr/2026/11/%d?a=1&b=2", i),
			Summary:   strings.Repeat("정부가 반도체 보조금을 늘렸다. The U.S. followed with export controls = a tariff.  ", 3+i%4),
			Published: &pub,
			Themes:    []string{[]string{"compute", "law"}[i%2]},
		}
		arts = append(arts, a)
	}
	var secs []digest.Section
	for k, id := range []string{"compute", "law"} {
		sec := digest.Section{ID: id, Name: id}
		for i := k; i < len(arts); i += 2 {
			sec.Articles = append(sec.Articles, arts[i])
		}
		secs = append(secs, sec)
	}
	return digest.Issue{ID: "2026-W48", Title: "AI Policy Weekly", Number: 12, Sections: secs,
		Period: digest.Period{Start: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}}
}
