package sql

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twmb/avro"
)

// parsedSVG is what the tests read back from Plan.SVG.
type parsedSVG struct {
	root   map[string]string
	arrows int // <path> elements with a marker-end
	nodes  []parsedSVGNode
}

type parsedSVGNode struct {
	class string
	title string
	rect  map[string]string
	lines []string // one per <tspan>, XML-decoded
	bold  int      // how many of lines are bold
}

func svgAttrs(se xml.StartElement) map[string]string {
	m := map[string]string{}
	for _, a := range se.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

// parseSVG walks every token of doc with encoding/xml and collects the
// root's attributes, the arrows and the operator boxes.
func parseSVG(t *testing.T, doc []byte) parsedSVG {
	t.Helper()
	var out parsedSVG
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var stack []string
	var node *parsedSVGNode
	var text *strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			a := svgAttrs(tok)
			if len(stack) == 0 {
				if name != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root is %v, want svg", tok.Name)
				}
				out.root = a
			}
			switch {
			case name == "path" && a["marker-end"] != "":
				out.arrows++
			case name == "g" && strings.HasPrefix(a["class"], "node"):
				out.nodes = append(out.nodes, parsedSVGNode{class: a["class"]})
				node = &out.nodes[len(out.nodes)-1]
			case name == "rect" && node != nil:
				node.rect = a
			case name == "tspan" && node != nil:
				text = &strings.Builder{}
				if a["font-weight"] == "bold" {
					node.bold++
				}
			case name == "title" && node != nil:
				text = &strings.Builder{}
			}
			stack = append(stack, name)
		case xml.CharData:
			if text != nil {
				text.Write(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			switch tok.Name.Local {
			case "tspan":
				node.lines = append(node.lines, text.String())
				text = nil
			case "title":
				if node != nil {
					node.title = text.String()
					text = nil
				}
			case "g":
				node = nil
			}
		}
	}
	if out.root == nil {
		t.Fatal("no root element")
	}
	return out
}

func (n parsedSVGNode) num(t *testing.T, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.rect[attr], 64)
	if err != nil {
		t.Fatalf("rect %s=%q: %v", attr, n.rect[attr], err)
	}
	return v
}

// checkSVG checks the things every rendering of p must satisfy.
func checkSVG(t *testing.T, p *Plan) parsedSVG {
	t.Helper()
	doc := p.SVG()
	if again := p.SVG(); !bytes.Equal(doc, again) {
		t.Fatal("two renderings differ")
	}
	s := parseSVG(t, doc)
	w, err1 := strconv.ParseFloat(s.root["width"], 64)
	h, err2 := strconv.ParseFloat(s.root["height"], 64)
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		t.Fatalf("root width %q height %q", s.root["width"], s.root["height"])
	}
	if vb := s.root["viewBox"]; vb != "0 0 "+s.root["width"]+" "+s.root["height"] {
		t.Fatalf("viewBox %q for width %v height %v", vb, w, h)
	}
	if !bytes.Contains(doc, []byte("<defs><marker")) {
		t.Error("no arrowhead marker in <defs>")
	}
	if s.arrows != len(p.Edges) {
		t.Errorf("%d arrows, want %d", s.arrows, len(p.Edges))
	}
	if len(s.nodes) != len(p.Nodes) {
		t.Fatalf("%d boxes, want %d", len(s.nodes), len(p.Nodes))
	}
	for i, n := range p.Nodes {
		g := s.nodes[i]
		if g.title != n.ID || g.class != "node "+n.Kind {
			t.Errorf("box %d: title %q class %q, want %q and kind %q", i, g.title, g.class, n.ID, n.Kind)
		}
		// The label comes first, bold; the details follow, each on one
		// line or wrapped onto several, the later ones indented.
		if got := svgUnwrap(g.lines[:g.bold]); got != noSpace(n.Label) {
			t.Errorf("box %d: label %q, want %q", i, got, n.Label)
		}
		var want []string
		for _, d := range n.Details {
			want = append(want, noSpace(d.Key+": "+d.Value))
		}
		if got := svgUnwrapAll(g.lines[g.bold:]); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("box %d: details\n%q\nwant\n%q", i, got, want)
		}
		if len(g.lines) == 1+len(n.Details) {
			for j, d := range n.Details {
				if g.lines[1+j] != d.Key+": "+d.Value {
					t.Errorf("box %d: line %q, want %q", i, g.lines[1+j], d.Key+": "+d.Value)
				}
			}
		}
		// Every line fits its box and the box fits the picture.
		x, y, bw, bh := g.num(t, "x"), g.num(t, "y"), g.num(t, "width"), g.num(t, "height")
		for _, l := range g.lines {
			if n := utf8.RuneCountInString(l); n > svgWrapAt {
				t.Errorf("box %d: line of %d characters: %q", i, n, l)
			}
			if float64(utf8.RuneCountInString(l))*7 > bw-2*svgPadX {
				t.Errorf("box %d: line %q wider than box %v", i, l, bw)
			}
		}
		if x < 0 || y < 0 || x+bw > w || y+bh > h {
			t.Errorf("box %d at %v,%v size %vx%v outside %vx%v", i, x, y, bw, bh, w, h)
		}
	}
	return s
}

// svgUnwrapAll splits rendered lines into logical lines, a line that does
// not start with the wrap indent beginning a new one.
func svgUnwrapAll(lines []string) []string {
	var out []string
	var cur []string
	for _, l := range lines {
		if !strings.HasPrefix(l, svgIndent) && cur != nil {
			out = append(out, svgUnwrap(cur))
			cur = nil
		}
		cur = append(cur, l)
	}
	if cur != nil {
		out = append(out, svgUnwrap(cur))
	}
	return out
}

// svgUnwrap joins the lines of one wrapped text. As it cannot tell a
// break at a space from a hard break, it drops all spaces: compare with
// noSpace of the original.
func svgUnwrap(lines []string) string {
	return noSpace(strings.Join(lines, ""))
}

func noSpace(s string) string { return strings.ReplaceAll(s, " ", "") }

func TestPlanSVGHandBuilt(t *testing.T) {
	cond := `s < 'a&b' AND n <> 3 AND u = "it's" & x > 1`
	p := &Plan{
		Nodes: []PlanNode{
			{ID: "src", Kind: "source", Label: "Kafka source", Details: []Detail{{"topic", "acme"}}},
			{ID: "dec", Kind: "decode", Label: "Decode", Details: []Detail{{"fields", "s, n, u"}}},
			{ID: "f1", Kind: "filter", Label: "Filter <one>", Details: []Detail{{"condition", cond}}},
			{ID: "f2", Kind: "filter", Label: "Filter two", Details: []Detail{{"condition", "n > 5"}}},
			{ID: "agg", Kind: "aggregate", Label: "Windowed aggregate", Details: []Detail{{"window", "TUMBLE(ts, 1 minute)"}}},
			{ID: "enc", Kind: "encode", Label: "Encode", Details: []Detail{{"format", "JSON"}}},
			{ID: "snk", Kind: "sink", Label: "Sink", Details: []Detail{{"sink", "file x"}}},
			{ID: "prj", Kind: "project", Label: "Project", Details: []Detail{{"columns", "s VARCHAR"}}},
		},
		// A diamond, with the project node listed last but fed by the
		// aggregate, and an edge skipping a layer.
		Edges: []PlanEdge{
			{"src", "dec"}, {"dec", "f1"}, {"dec", "f2"}, {"f1", "agg"}, {"f2", "agg"},
			{"agg", "prj"}, {"prj", "enc"}, {"enc", "snk"}, {"src", "snk"},
		},
	}
	s := checkSVG(t, p)
	at := map[string]parsedSVGNode{}
	for _, n := range s.nodes {
		at[n.title] = n
	}
	// The condition round-trips exactly through XML decoding.
	if got := at["f1"].lines[1]; got != "condition: "+cond {
		t.Errorf("condition line %q", got)
	}
	if doc := string(p.SVG()); !strings.Contains(doc, "&lt;") || !strings.Contains(doc, "&amp;") || !strings.Contains(doc, "&apos;") || !strings.Contains(doc, "&quot;") {
		t.Error("special characters not escaped")
	}
	// Layers follow the longest path: src, dec, {f1 f2}, agg, prj, enc, snk.
	y := func(id string) float64 { return at[id].num(t, "y") }
	x := func(id string) float64 { return at[id].num(t, "x") }
	chain := []string{"src", "dec", "f1", "agg", "prj", "enc", "snk"}
	for i := 1; i < len(chain); i++ {
		if y(chain[i]) <= y(chain[i-1]) {
			t.Errorf("%s (y %v) not below %s (y %v)", chain[i], y(chain[i]), chain[i-1], y(chain[i-1]))
		}
	}
	if y("f1") != y("f2") || x("f1") >= x("f2") {
		t.Errorf("f1 at %v,%v and f2 at %v,%v, want side by side in node order", x("f1"), y("f1"), x("f2"), y("f2"))
	}
	// Boxes differ in colour by kind.
	fills := map[string]string{}
	for _, n := range s.nodes {
		kind := strings.TrimPrefix(n.class, "node ")
		if f, ok := fills[kind]; ok && f != n.rect["fill"] {
			t.Errorf("kind %s has fills %s and %s", kind, f, n.rect["fill"])
		}
		fills[kind] = n.rect["fill"]
	}
	seen := map[string]string{}
	for kind, f := range fills {
		if other, ok := seen[f]; ok {
			t.Errorf("kinds %s and %s share fill %s", kind, other, f)
		}
		seen[f] = kind
	}
	if len(fills) != 7 {
		t.Errorf("%d kinds, want 7", len(fills))
	}
}

func TestPlanSVGAnalyze(t *testing.T) {
	for _, src := range []string{
		`SELECT id, s FROM tenant WHERE s LIKE '%<&>%' AND id > 3`,
		`SELECT src.ip, COUNT(*) AS n FROM tenant WHERE e = 'deny'
		GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), src.ip HAVING COUNT(*) > 5`,
		`SELECT id, s, d, u, src.ip, src.port, tags, attrs, day, MixedCase FROM tenant`,
	} {
		q, err := Analyze(src, avro.MustParse(testSchema))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		p := q.Plan(PlanOptions{Source: "acme", Format: "JSON", Sink: "file x", Lateness: "5 seconds"})
		s := checkSVG(t, p)
		if len(p.Nodes) < 4 || s.arrows != len(p.Nodes)-1 {
			t.Errorf("%s: %d nodes, %d arrows", src, len(p.Nodes), s.arrows)
		}
		// A chain: one box per layer, each below the last.
		for i := 1; i < len(s.nodes); i++ {
			if s.nodes[i].num(t, "y") <= s.nodes[i-1].num(t, "y") {
				t.Errorf("%s: box %d not below box %d", src, i, i-1)
			}
		}
	}
}

func TestPlanSVGWrap(t *testing.T) {
	words := strings.Repeat("alpha beta gamma delta ", 14)[:300]
	token := strings.Repeat("x", 150)
	p := &Plan{Nodes: []PlanNode{{ID: "a", Kind: "project", Label: "Project", Details: []Detail{
		{"columns", words},
		{"token", token},
		{"short", "ok"},
	}}}}
	s := checkSVG(t, p)
	lines := s.nodes[0].lines
	if len(lines) < 1+6+3+1 {
		t.Fatalf("%d lines, want the 300 characters on 6 or more and the token on 3:\n%q", len(lines), lines)
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, svgIndent) && strings.HasSuffix(l, " ") {
			t.Errorf("line %q ends in a space", l)
		}
	}
	if lines[len(lines)-1] != "short: ok" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	// The long detail's box is as wide as its longest line and no wider.
	longest := 0
	for _, l := range lines {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	if w := s.nodes[0].num(t, "width"); w != float64(longest)*svgCharWidth+2*svgPadX {
		t.Errorf("width %v for %d characters", w, longest)
	}
}

func TestPlanSVGCleansText(t *testing.T) {
	p := &Plan{Nodes: []PlanNode{
		{ID: "a\x00", Kind: "filter", Label: "Fil\x01ter\x7f", Details: []Detail{{"condition", "a\tb\nc\x1b[0m \u0085d\xff"}}},
	}}
	s := parseSVG(t, p.SVG())
	n := s.nodes[0]
	if n.title != "a" || n.lines[0] != "Filter" || n.lines[1] != "condition: a b c[0m d\uFFFD" {
		t.Errorf("title %q lines %q", n.title, n.lines)
	}
}

func TestPlanSVGOddGraphs(t *testing.T) {
	for name, p := range map[string]*Plan{
		"nil":   nil,
		"empty": {},
		"no edges": {Nodes: []PlanNode{
			{ID: "a", Kind: "source", Label: "A"}, {ID: "b", Kind: "sink", Label: "B"},
		}},
		"cycle": {Nodes: []PlanNode{
			{ID: "a", Kind: "source", Label: "A"}, {ID: "b", Kind: "filter", Label: "B"}, {ID: "c", Kind: "weird", Label: "C"},
		}, Edges: []PlanEdge{{"a", "b"}, {"b", "c"}, {"c", "b"}, {"c", "c"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if p == nil {
				parseSVG(t, p.SVG())
				return
			}
			s := checkSVG(t, p)
			if name == "no edges" && s.nodes[0].num(t, "y") != s.nodes[1].num(t, "y") {
				t.Error("unconnected nodes not side by side")
			}
		})
	}
	// Edges naming unknown nodes are left out.
	p := &Plan{Nodes: []PlanNode{{ID: "a", Kind: "source", Label: "A"}}, Edges: []PlanEdge{{"a", "zz"}}}
	if s := parseSVG(t, p.SVG()); s.arrows != 0 {
		t.Errorf("%d arrows for an edge to nowhere", s.arrows)
	}
}
