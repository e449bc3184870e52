package render

import "bytes"

// Styles is the mail's stylesheet as its HTML part has it (the "styles"
// template: a <style> element, with the config's templates folder's
// override when there is one), so the archive's pages (digest/web) wear
// the mail's design from the one stylesheet.
func (r *Renderer) Styles() (string, error) {
	var b bytes.Buffer
	if err := r.html.ExecuteTemplate(&b, "styles", nil); err != nil {
		return "", templateError(err, r.src)
	}
	return b.String(), nil
}
