package digest

import (
	"net/url"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// trackingParams are query parameters that identify a campaign or a click,
// not the article. Matching is case-insensitive; a trailing '*' is a prefix.
var trackingParams = []string{
	"utm_*", "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid",
	"mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "igshid", "si", "spm",
	"vero_id", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "wt.mc_id",
	"ncid", "cmpid", "ocid", "sr_share", "ref_src", "ref_url", "_ga", "_gl",
}

func isTrackingParam(name string) bool {
	name = strings.ToLower(name)
	for _, p := range trackingParams {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(name, strings.TrimSuffix(p, "*")) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// StripTracking removes tracking parameters from u's query, keeping the
// order and spelling of the others. It reports whether anything changed.
func StripTracking(u *url.URL) bool {
	if u.RawQuery == "" {
		return false
	}
	parts := strings.Split(u.RawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		name := p
		if i := strings.IndexByte(p, '='); i >= 0 {
			name = p[:i]
		}
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if p == "" || isTrackingParam(name) {
			continue
		}
		kept = append(kept, p)
	}
	q := strings.Join(kept, "&")
	changed := q != u.RawQuery
	u.RawQuery = q
	if u.RawQuery == "" {
		u.ForceQuery = false
	}
	return changed
}

// CleanLink returns raw with tracking parameters removed, or raw unchanged
// when it does not parse.
func CleanLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	if !StripTracking(u) {
		return strings.TrimSpace(raw)
	}
	return u.String()
}

// CanonicalURL reduces a link to the form two copies of the same article
// share: no scheme difference between http and https, no "www.", no default
// port, no fragment that only points into the page, no trailing slash, no tracking parameters, and the
// remaining query parameters sorted. It returns "" for anything that is not
// an absolute http(s) URL.
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	// Trimmed until stable so that "m.www.example.com" gives the same
	// result as its own canonical form would.
	for {
		h := strings.TrimPrefix(strings.TrimPrefix(host, "www."), "m.")
		if h == host {
			break
		}
		host = h
	}
	// "http://:80/x" or "http://www./x" names no host: not an absolute URL.
	if host == "" {
		return ""
	}
	// An IPv6 literal needs its brackets back, or the result reads as
	// host:port and does not parse again.
	// A zone ("fe80::1%en0") needs its "%" escaped for the same reason.
	if strings.Contains(host, ":") {
		host = "[" + strings.ReplaceAll(host, "%", "%25") + "]"
	}
	if port := u.Port(); port != "" && port != "80" && port != "443" {
		host += ":" + port
	}
	StripTracking(u)
	query := canonicalQuery(u.RawQuery)
	path := u.EscapedPath()
	// Trimmed until stable: "/a//index.html" and "/a/index.html/index.htm"
	// would otherwise keep a slash or an index that a second pass removes.
	for {
		p := strings.TrimRight(path, "/")
		for _, idx := range []string{"/index.html", "/index.htm", "/index.php"} {
			p = strings.TrimSuffix(p, idx)
		}
		if p == path {
			break
		}
		path = p
	}
	out := host + path
	if query != "" {
		out += "?" + query
	}
	// The fragment goes out escaped, as the path does: written unescaped, a
	// "%", a space or a control character in it reads back differently.
	if f := u.Fragment; f != "" && !noiseFragment(f) {
		out += "#" + u.EscapedFragment()
	}
	return out
}

// canonicalQuery sorts a query's pairs by name, then value, each escaped
// the same way. It splits the query itself because url.ParseQuery silently
// drops pairs it rejects (a ";" in the pair, a bad escape): old CGI sites
// put the article id in just such a pair ("read.cgi?id=12;cat=3"), and every
// article of the site would then share one canonical URL, so Dedupe would
// keep one of them and MailKeys would mark the rest as already mailed.
func canonicalQuery(raw string) string {
	unescape := func(s string) string {
		if u, err := url.QueryUnescape(s); err == nil {
			return u
		}
		return s
	}
	var pairs [][2]string
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		pairs = append(pairs, [2]string{unescape(k), unescape(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	for _, p := range pairs {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

// noiseFragment reports whether a link's fragment points into a page
// (comments, "read more", a tracking tag) rather than naming an entry. Diary
// pages and link blogs put many entries on one page, told apart only by the
// fragment ("2017/06/26.html#a080605"), so other fragments are kept.
func noiseFragment(f string) bool {
	l := strings.ToLower(f)
	if strings.ContainsAny(l, "=&") || strings.HasPrefix(l, "tk.") || strings.HasPrefix(l, "xtor") {
		return true
	}
	for _, p := range []string{"comments", "comment-form", "respond", "more", "disqus_thread", "top", "content", "main", "article", "page"} {
		if l == p || strings.HasPrefix(l, p+"-") {
			return true
		}
	}
	return false
}

// guidKey is the dedupe key of an article's GUID. GUIDs that look globally
// unique (URLs, tag: and urn: URIs) are compared across feeds; short local
// ones such as "12345" only within their own feed.
func guidKey(a Article) string {
	g := strings.TrimSpace(a.GUID)
	if g == "" {
		return ""
	}
	if strings.Contains(g, "://") {
		if c := CanonicalURL(g); c != "" {
			return "url:" + c
		}
	}
	if len(g) >= 12 && (strings.HasPrefix(g, "tag:") || strings.HasPrefix(g, "urn:")) {
		return "guid:" + g
	}
	return "guid:" + a.FeedURL + "#" + g
}

// titlePrefixes are outlet labels put in front of a column's title; two
// outlets running the same column label it differently, so they are dropped
// before titles are compared. Bracketed labels of any text are dropped too.
var titlePrefixes = []string{
	"opinion:", "op-ed:", "oped:", "column:", "editorial:", "commentary:", "analysis:",
	"칼럼:", "기고:", "사설:", "시론:", "오피니언:",
}

// TitleKey normalizes a title for comparison: Unicode-compatible forms
// folded (NFKC, so full-width letters match), case folded, leading outlet
// labels such as "[칼럼]" or "Opinion:" removed, and everything but letters
// and digits dropped. Titles too short to identify a story give "".
func TitleKey(title string) string {
	t := norm.NFKC.String(title)
	t = strings.ToLower(strings.TrimSpace(t))
	for {
		before := t
		t = trimBracketLabel(t)
		for _, p := range titlePrefixes {
			t = strings.TrimSpace(strings.TrimPrefix(t, p))
		}
		if t == before {
			break
		}
	}
	var b strings.Builder
	n := 0
	for _, r := range t {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			n++
		}
	}
	if n < 6 {
		return ""
	}
	return b.String()
}

// trimBracketLabel drops one leading bracketed label ("[칼럼]", "【사설】",
// "<기고>", "(Opinion)") of up to 20 characters.
func trimBracketLabel(t string) string {
	pairs := map[rune]rune{'[': ']', '【': '】', '<': '>', '〈': '〉', '《': '》', '(': ')', '「': '」'}
	for i, r := range t {
		if i > 0 {
			break
		}
		closer, ok := pairs[r]
		if !ok {
			return t
		}
		rest := t[len(string(r)):]
		j := strings.IndexRune(rest, closer)
		if j < 0 || len([]rune(rest[:j])) > 20 {
			return t
		}
		// A label with a number ("(1)", "[연재 ①]", ① is "1" after NFKC)
		// numbers a series; dropping it would merge part 1 with part 2.
		if strings.IndexFunc(rest[:j], unicode.IsDigit) >= 0 {
			return t
		}
		return strings.TrimSpace(rest[j+len(string(closer)):])
	}
	return t
}
