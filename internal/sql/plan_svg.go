package sql

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Geometry of the SVG rendering, in pixels. Text is set in a monospace
// font at svgFontSize; svgCharWidth is the advance of one character, a
// little over the 0.6em of common monospace faces so boxes never clip.
const (
	svgFontSize   = 12
	svgCharWidth  = 7.25
	svgLineHeight = 16
	svgPadX       = 10 // text inset from a box's left and right edges
	svgPadY       = 8  // text inset from a box's top and bottom edges
	svgGapX       = 30 // between boxes in one layer
	svgGapY       = 44 // between layers, room for the arrows
	svgMargin     = 20 // around the whole picture
	svgWrapAt     = 60 // characters per text line before wrapping
	svgIndent     = "  "
	svgMinBoxW    = 80
)

// svgColors are the fill and stroke of a box per operator kind.
var svgColors = map[string][2]string{
	"source":    {"#e3f2fd", "#1e88e5"},
	"decode":    {"#ede7f6", "#5e35b1"},
	"filter":    {"#fff3e0", "#fb8c00"},
	"project":   {"#e8f5e9", "#43a047"},
	"aggregate": {"#fce4ec", "#d81b60"},
	"encode":    {"#e0f7fa", "#00acc1"},
	"sink":      {"#eceff1", "#546e7a"},
}

var svgDefaultColor = [2]string{"#f4f6fb", "#7a869a"}

// svgBox is one operator placed on the canvas.
type svgBox struct {
	node       *PlanNode
	lines      []string // the label's lines first, then the details'
	labelLines int
	x, y, w, h float64
	layer      int
	idx        int // index in p.Nodes
	order      int // position in topological order
}

// SVG renders the plan as a self-contained SVG picture of its operator
// DAG, drawn without Graphviz. Operators are laid out in layers from top
// to bottom: each operator sits one layer below the lowest of the
// operators feeding it (longest-path layering over a topological order
// of the edges, in which operators not constrained by edges keep the
// order of p.Nodes), and the operators of one layer sit side by side,
// centred. Each is a rounded box filled with a colour for its kind,
// holding its label in bold and one "key: value" line per detail, lines
// longer than about 60 characters wrapped. Each edge is an arrow from
// the bottom centre of one box to the top centre of the other. All text
// is XML-escaped, with control characters removed, and the output is a
// function of p alone. Edges naming unknown operators are left out; if
// the edges have a cycle, the edges closing it are drawn but do not
// affect the layering.
func (p *Plan) SVG() []byte {
	var nodes []PlanNode
	var edges []PlanEdge
	if p != nil {
		nodes, edges = p.Nodes, p.Edges
	}

	boxes := make([]*svgBox, len(nodes))
	byID := make(map[string]int, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		if _, dup := byID[n.ID]; !dup {
			byID[n.ID] = i
		}
		b := &svgBox{node: n, idx: i}
		b.lines = svgWrap(n.Label)
		b.labelLines = len(b.lines)
		for _, d := range n.Details {
			b.lines = append(b.lines, svgWrap(d.Key+": "+d.Value)...)
		}
		maxRunes := 0
		for _, l := range b.lines {
			maxRunes = max(maxRunes, utf8.RuneCountInString(l))
		}
		b.w = max(svgMinBoxW, float64(maxRunes)*svgCharWidth+2*svgPadX)
		b.h = float64(len(b.lines)*svgLineHeight + 2*svgPadY)
		boxes[i] = b
	}

	// Resolve edges to node indices, dropping those naming unknown nodes.
	type edge struct{ from, to int }
	var es []edge
	succ := make([][]int, len(nodes))
	pred := make([][]int, len(nodes))
	indeg := make([]int, len(nodes))
	for _, e := range edges {
		f, ok1 := byID[e.From]
		t, ok2 := byID[e.To]
		if !ok1 || !ok2 {
			continue
		}
		es = append(es, edge{f, t})
		if f == t {
			continue
		}
		succ[f] = append(succ[f], t)
		pred[t] = append(pred[t], f)
		indeg[t]++
	}

	// Kahn's algorithm, always taking the ready node that comes first in
	// p.Nodes. Nodes left over by a cycle follow in node order.
	order := make([]int, 0, len(nodes))
	placed := make([]bool, len(nodes))
	for len(order) < len(nodes) {
		next := -1
		for i := range nodes {
			if !placed[i] && indeg[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 { // a cycle: break it at the first unplaced node
			for i := range nodes {
				if !placed[i] {
					next = i
					break
				}
			}
		}
		placed[next] = true
		boxes[next].order = len(order)
		order = append(order, next)
		for _, s := range succ[next] {
			indeg[s]--
		}
	}

	// Longest-path layering over edges that go forward in that order.
	nLayers := 0
	for _, v := range order {
		l := 0
		for _, u := range pred[v] {
			if boxes[u].order < boxes[v].order {
				l = max(l, boxes[u].layer+1)
			}
		}
		boxes[v].layer = l
		nLayers = max(nLayers, l+1)
	}
	layers := make([][]*svgBox, nLayers)
	for _, v := range order {
		b := boxes[v]
		layers[b.layer] = append(layers[b.layer], b)
	}

	// Order each layer by the mean position of its boxes' parents in the
	// layers above (fewer crossings), then by topological order.
	pos := make([]float64, len(nodes))
	for li, layer := range layers {
		if li > 0 {
			key := make(map[*svgBox]float64, len(layer))
			for _, b := range layer {
				sum, n := 0.0, 0
				for _, u := range pred[b.idx] {
					if boxes[u].layer < b.layer {
						sum += pos[u]
						n++
					}
				}
				if n > 0 { // always, as only roots are in layer 0
					key[b] = sum / float64(n)
				}
			}
			sort.SliceStable(layer, func(i, j int) bool {
				ki, kj := key[layer[i]], key[layer[j]]
				if ki != kj {
					return ki < kj
				}
				return layer[i].order < layer[j].order
			})
		}
		for i, b := range layer {
			pos[b.idx] = float64(i)
		}
	}

	// Place layers top to bottom, each centred on the widest.
	widths := make([]float64, nLayers)
	maxW := 0.0
	for li, layer := range layers {
		for i, b := range layer {
			if i > 0 {
				widths[li] += svgGapX
			}
			widths[li] += b.w
		}
		maxW = max(maxW, widths[li])
	}
	y := float64(svgMargin)
	for li, layer := range layers {
		x := svgMargin + (maxW-widths[li])/2
		lh := 0.0
		for _, b := range layer {
			b.x, b.y = x, y
			x += b.w + svgGapX
			lh = max(lh, b.h)
		}
		y += lh + svgGapY
	}
	width := maxW + 2*svgMargin
	height := y - svgGapY + svgMargin
	if nLayers == 0 {
		height = 2 * svgMargin
	}

	var w bytes.Buffer
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + f(width) + `" height="` + f(height) +
		`" viewBox="0 0 ` + f(width) + ` ` + f(height) + `" font-family="ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="` +
		strconv.Itoa(svgFontSize) + `">` + "\n")
	w.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">` +
		`<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>` + "\n")
	w.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")

	for _, e := range es {
		a, b := boxes[e.from], boxes[e.to]
		x1, y1 := a.x+a.w/2, a.y+a.h
		x2, y2 := b.x+b.w/2, b.y
		var d string
		if x1 == x2 && y2 > y1 {
			d = "M" + f(x1) + "," + f(y1) + " L" + f(x2) + "," + f(y2)
		} else {
			// A curve, which also covers back edges of a cycle and loops.
			bend := max(svgGapY/2, (y2-y1)/2)
			d = "M" + f(x1) + "," + f(y1) + " C" + f(x1) + "," + f(y1+bend) + " " + f(x2) + "," + f(y2-bend) + " " + f(x2) + "," + f(y2)
		}
		w.WriteString(`<path class="edge" d="` + d + `" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>` + "\n")
	}

	for _, b := range boxes {
		c, ok := svgColors[b.node.Kind]
		if !ok {
			c = svgDefaultColor
		}
		w.WriteString(`<g class="node ` + svgEscape(svgClean(b.node.Kind)) + `">`)
		w.WriteString(`<title>` + svgEscape(svgClean(b.node.ID)) + `</title>`)
		w.WriteString(`<rect x="` + f(b.x) + `" y="` + f(b.y) + `" width="` + f(b.w) + `" height="` + f(b.h) +
			`" rx="8" ry="8" fill="` + c[0] + `" stroke="` + c[1] + `" stroke-width="1.5"/>`)
		w.WriteString(`<text xml:space="preserve" fill="#1a1a1a">`)
		tx := f(b.x + svgPadX)
		for i, l := range b.lines {
			ty := f(b.y + svgPadY + float64((i+1)*svgLineHeight) - 4)
			w.WriteString(`<tspan x="` + tx + `" y="` + ty + `"`)
			if i < b.labelLines {
				w.WriteString(` font-weight="bold"`)
			}
			w.WriteString(`>` + svgEscape(l) + `</tspan>`)
		}
		w.WriteString("</text></g>\n")
	}
	w.WriteString("</svg>\n")
	return w.Bytes()
}

// svgClean makes s fit for XML text on one line: invalid UTF-8 becomes
// U+FFFD, tabs and line breaks become spaces, and other control
// characters (and the non-characters XML forbids) are removed.
func svgClean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r), r == 0xFFFE, r == 0xFFFF:
			return -1
		}
		return r
	}, s)
}

// svgEscape escapes s for XML text and attribute values.
func svgEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// svgWrap cleans s and splits it into lines of at most svgWrapAt
// characters, breaking at the last space that fits or, in a longer run
// without spaces, hard after svgWrapAt characters. Lines after the first
// are indented. It returns at least one line.
func svgWrap(s string) []string {
	rs := []rune(strings.TrimRight(svgClean(s), " "))
	var lines []string
	prefix := ""
	for {
		limit := svgWrapAt - utf8.RuneCountInString(prefix)
		if len(rs) <= limit {
			return append(lines, prefix+string(rs))
		}
		cut, next := limit, limit
		for i := limit; i > 0; i-- {
			if rs[i] == ' ' {
				cut, next = i, i+1
				break
			}
		}
		// Drop the spaces at the break, on both sides.
		for cut > 0 && rs[cut-1] == ' ' {
			cut--
		}
		for next < len(rs) && rs[next] == ' ' {
			next++
		}
		if cut == 0 { // only spaces before the break: hard break instead
			cut, next = limit, limit
		}
		lines = append(lines, prefix+string(rs[:cut]))
		rs = rs[next:]
		prefix = svgIndent
		if len(rs) == 0 {
			return lines
		}
	}
}
