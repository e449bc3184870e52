package digest

import "unicode/utf8"

// supportWords are the method's own evidence that an article is about AI:
// the technical vocabulary of AI (its hardware, its models, how they are
// made), in both languages. None of them makes an article relevant alone,
// since a data centre or a graphics card need not be about AI; with
// another of them, or with a relevance word, they do. Chips in general
// (반도체, semiconductor) are not among them: phones and cars use them too.
var supportWords = []string{
	"GPU", "가속기", "accelerator", "HBM", "데이터센터", "데이터 센터",
	"data center", "data centre", "datacenter",
	"모델 학습", "학습 데이터", "training data", "추론 모델", "reasoning model", "inference", "매개변수",
	"parameters", "오픈 웨이트", "open weights", "가중치", "오픈소스 모델", "open-source model",
	"자율주행", "autonomous", "로봇", "robot", "자동화", "automation", "신경망", "neural network",
}

// How much of each kind of evidence an article needs to be about AI (see
// aboutAI): in half-points, so a supporting word can count half.
const (
	relevanceHit  = 2 // a relevance word in the summary
	supportHit    = 1 // a supporting word anywhere
	relevanceNeed = 2 // for a summary up to relevanceSpan runes long
	// relevanceSpan is the text a single mention covers: a longer summary
	// needs one more mention for each span, so a passing mention in a
	// long piece does not make it an AI article.
	relevanceSpan = 1000
	// maxCounted caps the occurrences counted of one word.
	maxCounted = 8
)

// aboutAI reports whether an article is about AI, the test a filtered
// feed's article must pass. Theme keywords play no part: a housing column
// about 규제 or a budget editorial about 예산 is not about AI. What counts:
//   - a relevance word in the title or the categories: the article is about
//     AI (the headline and the outlet's own filing say what it is about);
//   - otherwise the summary's relevance words (2 each) and supporting words
//     anywhere (1 each) must reach 2 for every relevanceSpan runes of
//     summary begun: one mention in a short summary, more in a long one.
//
// Words are matched as the theme keywords are: acronyms stand alone and in
// capitals ("AI" is not in said, Dubai, Taiwan or maintain), Korean words
// with particles attached (인공지능은, AI가).
func (g *Grouper) aboutAI(m matchText) bool {
	for _, k := range g.relevance {
		if k.in(m.title) || k.in(m.categories) {
			return true
		}
	}
	need := relevanceNeed * (1 + utf8.RuneCountInString(m.summary.raw)/relevanceSpan)
	have := 0
	for _, k := range g.relevance {
		have += relevanceHit * k.count(m.summary, maxCounted)
	}
	for _, k := range g.support {
		have += supportHit * (k.count(m.title, maxCounted) + k.count(m.summary, maxCounted))
	}
	return have >= need
}
