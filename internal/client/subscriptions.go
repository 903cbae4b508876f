package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sluicehq/sluice/internal/subscription"
)

type (
	// Subscription is a stored subscription: its spec and the
	// server-assigned fields (ID, State, Version, Epoch, ...).
	Subscription = subscription.Subscription
	// SubscriptionSpec is what an application asks for: tenant, SQL, output
	// format, sink and the rest.
	SubscriptionSpec = subscription.Spec
	// SubscriptionStatus is the desired against the actual state of a
	// subscription's job.
	SubscriptionStatus = subscription.Status
)

// SubscriptionFilter selects subscriptions to list. Empty fields do not
// filter; Limit 0 takes the server's default page size (100). After is the
// next cursor of the previous page.
type SubscriptionFilter struct {
	Application string
	Tenant      string
	// State is "running", "paused" or "" for both.
	State string
	Limit int
	After string
}

// maxRawBody caps a raw response body, such as a DAG's SVG.
const maxRawBody = 64 << 20

// request is one call of send: do with request headers, a raw body of its
// own content type, and the response headers and body returned.
type request struct {
	method, path string
	query        url.Values
	// header holds further request headers, such as If-Match.
	header http.Header
	// body, when non-nil, is sent with contentType (application/json when
	// empty).
	body        []byte
	contentType string
	// accept is the Accept header (JSON and problems when empty).
	accept string
}

// send performs r and returns a 2xx response's headers and body; non-2xx
// answers are *Error, as do reports them.
func (c *Client) send(ctx context.Context, r request) (http.Header, []byte, error) {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", r.method, target, err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept+", application/problem+json")
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
			return nil, nil, fmt.Errorf("%s %s: %w", r.method, target, cerr)
		}
		return nil, nil, &UnreachableError{Method: r.method, URL: target, Timeout: c.cfg.timeout, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, decodeError(r.method, target, resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRawBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read %s response: %w", r.method, target, resp.Status, err)
	}
	if len(b) > maxRawBody {
		return nil, nil, fmt.Errorf("%s %s: the response is larger than %d bytes", r.method, target, maxRawBody)
	}
	return resp.Header, b, nil
}

// sendJSON performs r and decodes the answer into out, returning the ETag
// header.
func (c *Client) sendJSON(ctx context.Context, r request, out any) (string, error) {
	h, b, err := c.send(ctx, r)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return "", fmt.Errorf("%s %s: decode response (is this a Sluice API?): %w", r.method, c.base+r.path, err)
	}
	return h.Get("ETag"), nil
}

// ifMatchHeader is the If-Match header for etag, none for "".
func ifMatchHeader(etag string) http.Header {
	if etag == "" {
		return nil
	}
	return http.Header{"If-Match": {etag}}
}

func subscriptionPath(id string) string { return "/v1/subscriptions/" + url.PathEscape(id) }

// CreateSubscription validates spec and creates a subscription
// (POST /v1/subscriptions); its job starts within seconds. The SQL is
// analysed against the tenant's current reader schema: a query that does not
// fit is a 422 *Error whose field error carries the line and column. With
// dryRun it also checks that the sink opens, saves nothing, and returns the
// subscription as it would have been created.
func (c *Client) CreateSubscription(ctx context.Context, spec SubscriptionSpec, dryRun bool) (Subscription, error) {
	var out Subscription
	b, err := json.Marshal(spec)
	if err != nil {
		return out, fmt.Errorf("encode subscription: %w", err)
	}
	var q url.Values
	if dryRun {
		q = url.Values{"dryRun": {"true"}}
	}
	_, err = c.sendJSON(ctx, request{method: http.MethodPost, path: "/v1/subscriptions", query: q, body: b}, &out)
	return out, err
}

// Subscriptions returns a page of subscriptions in id order
// (GET /v1/subscriptions) and the cursor of the next page, "" on the last;
// pass it as f.After to read on.
func (c *Client) Subscriptions(ctx context.Context, f SubscriptionFilter) ([]Subscription, string, error) {
	q := url.Values{}
	for k, v := range map[string]string{"application": f.Application, "tenant": f.Tenant, "state": f.State, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out struct {
		Subscriptions []Subscription `json:"subscriptions"`
		Next          string         `json:"next"`
	}
	_, err := c.sendJSON(ctx, request{method: http.MethodGet, path: "/v1/subscriptions", query: q}, &out)
	return out.Subscriptions, out.Next, err
}

// Subscription returns a subscription and its ETag
// (GET /v1/subscriptions/{id}); pass the ETag as ifMatch to change it only if
// nobody else has since.
func (c *Client) Subscription(ctx context.Context, id string) (Subscription, string, error) {
	var out Subscription
	if err := named("subscription", id); err != nil {
		return out, "", err
	}
	etag, err := c.sendJSON(ctx, request{method: http.MethodGet, path: subscriptionPath(id)}, &out)
	return out, etag, err
}

// ReplaceSubscription replaces a subscription's spec
// (PUT /v1/subscriptions/{id}), validated as CreateSubscription does; the
// application and tenant cannot change. A changed spec restarts the job at a
// new epoch. ifMatch, an ETag from Subscription (or "" for none), makes it
// conditional: a 412 *Error when the subscription has changed since.
func (c *Client) ReplaceSubscription(ctx context.Context, id string, spec SubscriptionSpec, ifMatch string) (Subscription, error) {
	var out Subscription
	if err := named("subscription", id); err != nil {
		return out, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return out, fmt.Errorf("encode subscription: %w", err)
	}
	_, err = c.sendJSON(ctx, request{method: http.MethodPut, path: subscriptionPath(id), header: ifMatchHeader(ifMatch), body: b}, &out)
	return out, err
}

// PatchSubscription changes part of a subscription's spec with a JSON merge
// patch (RFC 7396), such as {"sql": "SELECT ..."} or {"labels": {"team":
// null}} (PATCH /v1/subscriptions/{id}). The result is validated as a
// replacement; ifMatch works as in ReplaceSubscription.
func (c *Client) PatchSubscription(ctx context.Context, id string, patch []byte, ifMatch string) (Subscription, error) {
	var out Subscription
	if err := named("subscription", id); err != nil {
		return out, err
	}
	if !json.Valid(patch) {
		return out, errors.New("the merge patch is not JSON")
	}
	_, err := c.sendJSON(ctx, request{method: http.MethodPatch, path: subscriptionPath(id), header: ifMatchHeader(ifMatch),
		body: patch, contentType: "application/merge-patch+json"}, &out)
	return out, err
}

// DeleteSubscription deletes a subscription (DELETE /v1/subscriptions/{id});
// its job stops at a checkpoint. Its consumer group offsets are kept unless
// purgeOffsets.
func (c *Client) DeleteSubscription(ctx context.Context, id string, purgeOffsets bool) error {
	if err := named("subscription", id); err != nil {
		return err
	}
	var q url.Values
	if purgeOffsets {
		q = url.Values{"purgeOffsets": {"true"}}
	}
	_, _, err := c.send(ctx, request{method: http.MethodDelete, path: subscriptionPath(id), query: q})
	return err
}

// PauseSubscription sets a subscription's desired state to paused; its job
// stops at a checkpoint (POST /v1/subscriptions/{id}:pause).
func (c *Client) PauseSubscription(ctx context.Context, id string) (Subscription, error) {
	return c.subscriptionAction(ctx, id, "pause")
}

// ResumeSubscription sets a paused subscription's desired state back to
// running (POST /v1/subscriptions/{id}:resume).
func (c *Client) ResumeSubscription(ctx context.Context, id string) (Subscription, error) {
	return c.subscriptionAction(ctx, id, "resume")
}

// RestartSubscription starts the subscription's job again at a new epoch,
// from its committed offsets (POST /v1/subscriptions/{id}:restart).
func (c *Client) RestartSubscription(ctx context.Context, id string) (Subscription, error) {
	return c.subscriptionAction(ctx, id, "restart")
}

func (c *Client) subscriptionAction(ctx context.Context, id, action string) (Subscription, error) {
	var out Subscription
	if err := named("subscription", id); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, request{method: http.MethodPost, path: subscriptionPath(id) + ":" + action}, &out)
	return out, err
}

// DAG formats SubscriptionDAG takes, with the media type each comes as.
var dagFormats = map[string]string{
	"json": "application/json",
	"dot":  "text/vnd.graphviz",
	"svg":  "image/svg+xml",
}

// SubscriptionDAG returns the subscription's operator DAG
// (GET /v1/subscriptions/{id}/dag) as the server sends it: format "json" (or
// "") the plan as JSON, "dot" Graphviz DOT, "svg" an SVG picture.
func (c *Client) SubscriptionDAG(ctx context.Context, id, format string) ([]byte, error) {
	if err := named("subscription", id); err != nil {
		return nil, err
	}
	if format == "" {
		format = "json"
	}
	accept, ok := dagFormats[format]
	if !ok {
		return nil, fmt.Errorf("DAG format %q: want json, dot or svg", format)
	}
	_, b, err := c.send(ctx, request{method: http.MethodGet, path: subscriptionPath(id) + "/dag",
		query: url.Values{"format": {format}}, accept: accept})
	return b, err
}

// SubscriptionStatus returns the desired and actual state of the
// subscription's job (GET /v1/subscriptions/{id}/status): the epoch and
// schema version it runs, its rates, lag per partition and last error.
// ActualState is "unknown" when no worker has reported on it lately.
func (c *Client) SubscriptionStatus(ctx context.Context, id string) (SubscriptionStatus, error) {
	var out SubscriptionStatus
	if err := named("subscription", id); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, request{method: http.MethodGet, path: subscriptionPath(id) + "/status"}, &out)
	return out, err
}
