package policies

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"
)

// ErrUnfinished is returned when the request's context ended (its deadline
// passed, or its caller left) before every rule had judged the object:
// the verdict could not be reached in time, and no finding of the
// unfinished judgement is returned.
var ErrUnfinished = errors.New("the verdict could not be reached in time")

// How a judgement observes its deadline. The engine checks the request's
// context before each rule and after it; a rule whose work grows with the
// object or the view (a loop over triggers, over the objects of a
// namespace) calls Input.Expired between items and returns early. The
// engine then discards everything the judgement found, so an expired
// rule's partial findings are never seen, and nothing keeps running for a
// request that is gone: rules run on the caller's goroutine, never on
// their own. Work that cannot be interrupted (Prometheus's parser) is kept
// short by bounds checked before it starts (settings limits).

// Expired reports whether the request's deadline passed or its caller
// left. Rules that loop over unbounded input check it between items.
func (in *Input) Expired() bool {
	return in.ctx != nil && in.ctx.Err() != nil
}

// unfinished returns ErrUnfinished, with the cause, when ctx has ended.
func unfinished(ctx context.Context, rule string) error {
	if ctx == nil || ctx.Err() == nil {
		return nil
	}
	if rule == "" {
		return fmt.Errorf("%w (%v)", ErrUnfinished, ctx.Err())
	}
	return fmt.Errorf("%w: stopped at rule %s (%v)", ErrUnfinished, rule, ctx.Err())
}

// MaxMessageBytes bounds one finding's message: messages quote what the
// object holds, and a hostile object holds a lot.
const MaxMessageBytes = 2048

// bound caps the findings of one object at max and shortens overlong
// messages. Denials are kept first (then mutations, then warnings), so the
// reasons of a refusal always reach the reader; the findings left out are
// counted, per rule, in one last finding of that rule carrying its
// strongest action (at the field of the first left out), so the verdict is
// unchanged. Kept findings stay in their order.
func bound(fs []Finding, max int) []Finding {
	for i := range fs {
		fs[i].Message = shorten(fs[i].Message, MaxMessageBytes)
	}
	if max <= 0 || len(fs) <= max {
		return fs
	}
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rank(fs[order[a]].Action) < rank(fs[order[b]].Action) })
	keep := make([]bool, len(fs))
	for _, i := range order[:max] {
		keep[i] = true
	}
	type dropped struct {
		n     int
		first Finding
		act   Action
	}
	var rules []string
	left := map[string]*dropped{}
	out := make([]Finding, 0, max+1)
	for i, f := range fs {
		if keep[i] {
			out = append(out, f)
			continue
		}
		d, ok := left[f.Rule]
		if !ok {
			d = &dropped{first: f, act: f.Action}
			left[f.Rule] = d
			rules = append(rules, f.Rule)
		}
		d.n++
		if rank(f.Action) < rank(d.act) {
			d.act = f.Action
		}
	}
	for _, id := range rules {
		d := left[id]
		out = append(out, Finding{Rule: id, Action: d.act, Field: d.first.Field, Message: fmt.Sprintf(
			"%d more %s of this rule, from this field on, not listed (%d findings at most per object); fix those listed and judge the object again to see the rest",
			d.n, plural(d.act, d.n), max)})
	}
	return out
}

func rank(a Action) int {
	switch a {
	case Deny:
		return 0
	case Mutate:
		return 1
	}
	return 2
}

func plural(a Action, n int) string {
	s := map[Action]string{Deny: "denial", Mutate: "change", Warn: "warning"}[a]
	if s == "" {
		s = "finding"
	}
	if n != 1 {
		s += "s"
	}
	return s
}

// shorten cuts s to at most max bytes on a rune boundary, marking the cut.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "… (message cut)"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
