package digest

import "testing"

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
