package digest

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestDetectLang(t *testing.T) {
	for _, c := range []struct{ declared, title, summary, want string }{
		// No declaration: the script.
		{"", "엔비디아 GPU 26만 장, 한국에 무엇을 남기나", "", "ko"},
		{"", "AI기본법 시행령, 고영향 AI의 기준은 어디에", "", "ko"},
		{"", "The EU code of practice, one year on", "", "en"},
		{"", "Seoul's 반도체 특별법 passes the Assembly at last", "", "en"},
		{"", "生成AIの規制を考える", "", ""},
		{"", "12345", "", ""},
		{"", "", "", ""},
		// The declaration, in its many spellings.
		{"ko", "Weekly note", "", "ko"},
		{"ko-KR", "OECD AI", "", "ko"},
		{"en-us", "국회", "", "en"},
		{"EN_gb", "x", "", "en"},
		{"ja", "AI safety", "", ""},
		// A declaration that lies: the text overwhelmingly in another script.
		{"en-us", "삼성전자, 차세대 HBM 양산 돌입", "삼성전자가 차세대 고대역폭 메모리의 양산에 들어갔다고 밝혔다.", "ko"},
		{"ko", "OpenAI releases a new model for government use", "The company said the model would be offered to agencies.", "en"},
		{"en-us", "人工智能政策新闻", "国务院发布关于人工智能发展的新指导意见，强调安全和创新并重。", ""},
		// Korean newswire copy, full of Latin names, declared en-us.
		{"en-us", "NTT DoCoMo, Aplix에 투자", "NTT DoCoMo, Inc.는 11월 30일 소프트웨어 회사인 Aplix Corporation의 신주 15,000주를 사들였다.", "ko"},
		// Latin letters are not English: a German feed stays German ("").
		{"de", "Die Bundesregierung plant ein neues KI-Gesetz", "Der Entwurf soll noch in diesem Jahr vorgelegt werden.", ""},
		// ...but not when short or mixed: the declaration stands.
		{"en", "반도체 특별법", "", "en"},
		{"ko", "AI Act 해설: 고위험 AI의 의무", "", "ko"},
	} {
		if got := DetectLang(c.declared, c.title, c.summary); got != c.want {
			t.Errorf("DetectLang(%q, %q, %q) = %q, want %q", c.declared, c.title, c.summary, got, c.want)
		}
	}
}

// countScripts tells ASCII and Hangul syllables by their ranges; it must
// count as the Unicode tables do, for every rune near those ranges' edges
// and for random text of every script.
func TestCountScriptsIsTheTablesCount(t *testing.T) {
	byTables := func(s string) scripts {
		var c scripts
		for _, r := range s {
			switch {
			case !unicode.IsLetter(r):
				continue
			case unicode.Is(unicode.Hangul, r):
				c.hangul++
			case unicode.Is(unicode.Latin, r):
				c.latin++
			}
			c.letters++
		}
		return c
	}
	var edges []rune
	for r := rune(0); r < 0x300; r++ {
		edges = append(edges, r)
	}
	for _, r := range []rune{0x1100, 0x3131, 0xABFF, 0xAC00, 0xAC01, 0xD7A2, 0xD7A3, 0xD7A4, 0xD7B0, 0xFFA0, 0x4E00, 0x3042, 0x0410, utf8.RuneError} {
		edges = append(edges, r)
	}
	for _, r := range edges {
		if got, want := countScripts(string(r)), byTables(string(r)); got != want {
			t.Errorf("%U: %+v, want %+v", r, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(18, 2))
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for j := rng.IntN(40); j > 0; j-- {
			if rng.IntN(3) == 0 {
				b.WriteRune(edges[rng.IntN(len(edges))])
			} else {
				b.WriteRune(rune(rng.IntN(0x10000)))
			}
		}
		b.WriteString("\xff\xc3") // invalid UTF-8 too
		if got, want := countScripts(b.String()), byTables(b.String()); got != want {
			t.Fatalf("%q: %+v, want %+v", b.String(), got, want)
		}
	}
	if got, want := countScripts("AI기본법 시행령").add(countScripts("the 반도체 law")), byTables("AI기본법 시행령 the 반도체 law"); got != want {
		t.Errorf("title and summary counted apart: %+v, want %+v", got, want)
	}
}
