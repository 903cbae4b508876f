package sink

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// bqScope is the OAuth scope the sink's tokens carry.
const bqScope = "https://www.googleapis.com/auth/bigquery"

// bqServiceAccount is what the sink reads of a service account key.
type bqServiceAccount struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
}

// bqCheckKey checks a service account key (the JSON file Google Cloud
// gives out) without quoting any of it: the key is a secret. Only keys of
// type service_account are taken: other credential files (external
// accounts, impersonation) name URLs, files or programs that the worker
// would fetch, read or run on behalf of whoever wrote the subscription.
func bqCheckKey(key string) error {
	var sa bqServiceAccount
	if err := json.Unmarshal([]byte(key), &sa); err != nil {
		return errors.New("not a JSON object (paste the whole service account key file)")
	}
	if sa.Type != "service_account" {
		return errors.New(`not a service account key ("type" must be "service_account"; other kinds of credentials are not accepted)`)
	}
	if sa.ClientEmail == "" || sa.PrivateKey == "" {
		return errors.New(`the service account key lacks "client_email" or "private_key"`)
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return errors.New(`"private_key" of the service account key is not a PEM private key`)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	if _, isRSA := k.(*rsa.PrivateKey); err != nil || !isRSA {
		return errors.New(`"private_key" of the service account key is not an RSA private key`)
	}
	return nil
}

// bqTokenSource returns the credentials of the sink: the service account
// key's, signed locally as self-signed JWTs (so no token endpoint, which
// the key file could name, is ever contacted); or else the worker's
// Application Default Credentials.
func bqTokenSource(ctx context.Context, key string) (oauth2.TokenSource, error) {
	if key != "" {
		ts, err := google.JWTAccessTokenSourceWithScope([]byte(key), bqScope)
		if err != nil {
			// The message may quote parts of the key file: say nothing of it.
			return nil, &ConfigError{Type: "bigquery", Field: "credentialsJSON", Message: "the service account key cannot sign tokens"}
		}
		return ts, nil
	}
	creds, err := google.FindDefaultCredentials(ctx, bqScope)
	if err != nil {
		return nil, &ConfigError{Type: "bigquery", Field: "credentialsJSON", Message: fmt.Sprintf("not set, and the worker has no Application Default Credentials (%v)", err)}
	}
	return creds.TokenSource, nil
}

// bqPerRPC puts a bearer token on every call; it requires TLS.
type bqPerRPC struct{ ts oauth2.TokenSource }

var _ credentials.PerRPCCredentials = bqPerRPC{}

// GetRequestMetadata returns the token. A token the credentials' issuer
// refuses (a revoked key, say) fails the call as UNAUTHENTICATED; one that
// could not be fetched (the metadata server or token endpoint
// unreachable) as UNAVAILABLE, which is retried.
func (c bqPerRPC) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	tok, err := c.ts.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return nil, status.Errorf(codes.Unauthenticated, "the credentials were refused: %v", err)
		}
		return nil, status.Errorf(codes.Unavailable, "no token: %v", err)
	}
	return map[string]string{"authorization": tok.Type() + " " + tok.AccessToken}, nil
}

func (bqPerRPC) RequireTransportSecurity() bool { return true }
