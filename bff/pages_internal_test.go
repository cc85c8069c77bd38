package bff

import "testing"

// TestBreakable: a diagnosis may break after each "/", and stays text: its
// markup is escaped, so only the <wbr> the page adds is HTML.
func TestBreakable(t *testing.T) {
	got := string(breakable(`list http://x/cb <script>alert("1")</script> & go`))
	want := `list http:/<wbr>/<wbr>x/<wbr>cb &lt;script&gt;alert(&#34;1&#34;)&lt;/<wbr>script&gt; &amp; go`
	if got != want {
		t.Errorf("breakable = %s\nwant        %s", got, want)
	}
}
