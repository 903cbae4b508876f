// Package client is a typed Go client for Sluice's HTTP API (the /v1
// resources described in docs/openapi.json). The `sluice` CLI is built on it.
//
// Responses decode into the server's own data types (catalog.Tenant,
// events.Event, api.ClusterView, ...), re-exported here as aliases so a caller
// needs no other import. Failures come back as *Error for problem responses
// (4xx/5xx) and *UnreachableError when no answer arrived at all.
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
	"strings"
	"time"
)

// DefaultTimeout bounds each request unless WithTimeout says otherwise. It is
// longer than the server's own 30s Kafka timeout, so a slow Kafka operation
// comes back as the server's 503 rather than a client-side timeout.
const DefaultTimeout = 60 * time.Second

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 64 << 10

// Option configures a Client.
type Option func(*config)

type config struct {
	httpClient *http.Client
	timeout    time.Duration
	userAgent  string
}

func defaultConfig() config {
	return config{httpClient: http.DefaultClient, timeout: DefaultTimeout, userAgent: "sluice-go-client"}
}

// WithHTTPClient sends requests through hc, overriding http.DefaultClient;
// use it for custom transports, proxies or TLS settings.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithTimeout bounds each request, overriding DefaultTimeout; 0 means no
// bound beyond the caller's context. It applies on top of any timeout of the
// http.Client given to WithHTTPClient.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithUserAgent sets the User-Agent header, overriding "sluice-go-client".
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

func (c config) validate() error {
	if c.httpClient == nil {
		return errors.New("WithHTTPClient: nil http.Client")
	}
	if c.timeout < 0 {
		return fmt.Errorf("WithTimeout: negative timeout %v", c.timeout)
	}
	return nil
}

// Client talks to one Sluice API. It holds no connections of its own beyond
// those of its http.Client, needs no Close, and is safe for concurrent use.
type Client struct {
	base string // scheme://host[:port][/prefix], without a trailing slash
	cfg  config
}

// New returns a client for the API at baseURL, such as
// "http://127.0.0.1:8080". A baseURL without a scheme gets "http://"; a path
// in it (a reverse-proxy prefix) is kept. No connection is made until the
// first request; Ping checks that the server answers.
func New(baseURL string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("sluice client: %w", err)
	}
	raw := strings.TrimSpace(baseURL)
	if raw == "" {
		return nil, errors.New("sluice client: the server URL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sluice client: server URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("sluice client: server URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("sluice client: server URL %q has no host", baseURL)
	}
	if u.User != nil {
		// The URL shows up in error messages, which must not carry secrets.
		return nil, fmt.Errorf("sluice client: server URL %s: user information in the URL is not supported", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sluice client: server URL %q must not have a query or fragment", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return &Client{base: u.String(), cfg: cfg}, nil
}

// BaseURL is the server URL requests go to, as normalised by New.
func (c *Client) BaseURL() string { return c.base }

// Ping checks that the server answers its liveness probe, /healthz.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// named checks a resource name before it goes into a path, so that
// Cluster(ctx, "") cannot turn into a list request.
func named(kind, name string) error {
	if name == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	return nil
}

// do sends one request and decodes a 2xx JSON answer into out (when non-nil).
// in, when non-nil, is sent as the JSON body.
func (c *Client) do(ctx context.Context, method, p string, query url.Values, in, out any) error {
	target := c.base + p
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, target, err)
		}
		body = bytes.NewReader(buf)
	}
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, target, err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
			// The caller gave up (Ctrl-C): not the server's fault.
			return fmt.Errorf("%s %s: %w", method, target, cerr)
		}
		return &UnreachableError{Method: method, URL: target, Timeout: c.cfg.timeout, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(method, target, resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode %s response (is this a Sluice API?): %w", method, target, resp.Status, err)
	}
	return nil
}

// unwrapURLError drops *url.Error's "Get \"http://...\":" prefix, which
// UnreachableError already states.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
