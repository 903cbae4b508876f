package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
	"gocloud.dev/gcp"
	"google.golang.org/api/googleapi"
)

// storageDialTimeout bounds connecting to an object store.
const storageDialTimeout = 10 * time.Second

// storageBucket is the bucket the sink writes to, with the puts it needs:
// whole objects, durable when put returns.
type storageBucket struct {
	b    *blob.Bucket
	file bool // a file:// bucket: puts are synced to disk
	dir  string
}

// openStorageBucket opens the bucket of c. Network stores connect through
// the destination checks (Dialer): every connection's address is checked
// after DNS resolution. Credentials come from the store's standard
// environment, or for s3 from the spec's keys.
func openStorageBucket(ctx context.Context, c *storageConfig, env Env) (*storageBucket, error) {
	switch c.scheme {
	case "file":
		b, err := fileblob.OpenBucket(c.dir, &fileblob.Options{
			// Temporary files next to the object, so that the rename that
			// publishes it stays on one file system (atomic).
			NoTempDir: true,
			// No .attrs sidecar files beside the data.
			Metadata: fileblob.MetadataDontWrite,
		})
		if err != nil {
			return nil, fmt.Errorf("storage sink: open %s: %w", c.rawURL, err)
		}
		return &storageBucket{b: b, file: true, dir: c.dir}, nil
	case "s3":
		return openS3(ctx, c, env)
	case "gs":
		creds, err := gcp.DefaultCredentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("storage sink: Google Cloud credentials (GOOGLE_APPLICATION_CREDENTIALS or the metadata server): %w", err)
		}
		client, err := gcp.NewHTTPClient(storageTransport(env), gcp.CredentialsTokenSource(creds))
		if err != nil {
			return nil, fmt.Errorf("storage sink: %w", err)
		}
		b, err := gcsblob.OpenBucket(ctx, client, c.bucket, nil)
		if err != nil {
			return nil, fmt.Errorf("storage sink: open %s: %w", c.rawURL, err)
		}
		return &storageBucket{b: b}, nil
	case "azblob":
		client, err := azureContainer(c.bucket, env)
		if err != nil {
			return nil, fmt.Errorf("storage sink: %w", err)
		}
		b, err := azureblob.OpenBucket(ctx, client, nil)
		if err != nil {
			return nil, fmt.Errorf("storage sink: open %s: %w", c.rawURL, err)
		}
		return &storageBucket{b: b}, nil
	}
	return nil, fmt.Errorf("storage sink: no bucket for scheme %q", c.scheme)
}

// storageTransport is an HTTP transport whose connections go through the
// destination checks, and through no proxy (the check must see the
// store's own address).
func storageTransport(env Env) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           Dialer(env, storageDialTimeout).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   storageDialTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

func openS3(ctx context.Context, c *storageConfig, env Env) (*storageBucket, error) {
	var opts []func(*config.LoadOptions) error
	region := c.region
	if region == "" && c.endpoint != "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		region = "us-east-1" // S3-compatible stores take any
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if c.accessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.accessKey, c.secretKey, c.sessionToken)))
	}
	// The default chain (environment, shared files, web identity, the
	// instance's role) fetches credentials with the SDK's own client: the
	// instance metadata address is the operator's, not the subscription's.
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage sink: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, &ConfigError{Type: "storage", Field: "url", Message: "no AWS region: give region= in the URL (or set AWS_REGION on the worker)"}
	}
	guard := Dialer(env, storageDialTimeout)
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.ControlContext = guard.ControlContext; d.Timeout = storageDialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.Proxy = nil })
	checksum := cfg.RequestChecksumCalculation
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.HTTPClient = httpClient
		// A destination the checks refuse stays refused: no retries.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if IsPermanent(err) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			})}, so.Retryables...)
		})
		o.UsePathStyle = c.pathStyle
		o.EndpointOptions.DisableHTTPS = c.plainHTTP
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
			// S3-compatible stores may not know the checksums AWS added
			// in 2025; send them only where an operation requires one.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			checksum = aws.RequestChecksumCalculationWhenRequired
		}
	})
	b, err := s3blob.OpenBucket(ctx, client, c.bucket, &s3blob.Options{
		EncryptionType:             s3types.ServerSideEncryption(c.sse),
		KMSEncryptionID:            c.kmsKey,
		RequestChecksumCalculation: checksum,
	})
	if err != nil {
		return nil, fmt.Errorf("storage sink: open %s: %w", c.rawURL, err)
	}
	return &storageBucket{b: b}, nil
}

// azureContainer makes a client of the container in the account the
// environment names, with the environment's credentials as the azureblob
// driver reads them: a shared key, a SAS token, a connection string, or
// else Azure's default credential chain.
func azureContainer(name string, env Env) (*container.Client, error) {
	account := os.Getenv("AZURE_STORAGE_ACCOUNT")
	key := os.Getenv("AZURE_STORAGE_KEY")
	sas := os.Getenv("AZURE_STORAGE_SAS_TOKEN")
	conn := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if conn == "" {
		conn = os.Getenv("AZURE_STORAGEBLOB_CONNECTIONSTRING")
	}
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: storageTransport(env)}}}
	if conn != "" && (account == "" || key == "" && sas == "") {
		return container.NewClientFromConnectionString(conn, name, opts)
	}
	if account == "" {
		return nil, errors.New("azblob: the worker has no storage account: set AZURE_STORAGE_ACCOUNT (or AZURE_STORAGE_CONNECTION_STRING)")
	}
	domain := os.Getenv("AZURE_STORAGE_DOMAIN")
	if domain == "" {
		domain = "blob.core.windows.net"
	}
	u := "https://" + account + "." + domain + "/" + url.PathEscape(name)
	switch {
	case key != "":
		cred, err := azblob.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, fmt.Errorf("azblob: AZURE_STORAGE_KEY: %w", err)
		}
		return container.NewClientWithSharedKeyCredential(u, cred, opts)
	case sas != "":
		return container.NewClientWithNoCredential(u+"?"+strings.TrimPrefix(sas, "?"), opts)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azblob: Azure credentials: %w", err)
	}
	return container.NewClient(u, cred, opts)
}

// put writes an object whole. On a file bucket the data is synced before
// the rename that publishes it, and the directory after, so that a put
// that returned survives a machine crash and a reader never sees part of
// an object.
func (b *storageBucket) put(ctx context.Context, key string, data []byte, contentType string) error {
	var f *os.File
	opts := &blob.WriterOptions{ContentType: contentType, DisableContentTypeDetection: true}
	if b.file {
		opts.BeforeWrite = func(as func(any) bool) error {
			as(&f)
			return nil
		}
	}
	w, err := b.b.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	// With a content type given, fileblob makes its temporary file in
	// NewWriter (BeforeWrite hands it over), and Close renames it.
	if f != nil {
		if err := f.Sync(); err != nil {
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if b.file {
		return syncDir(filepath.Join(b.dir, filepath.FromSlash(filepath.Dir(key))))
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// get reads an object whole; found is false when there is none.
func (b *storageBucket) get(ctx context.Context, key string) (data []byte, found bool, err error) {
	data, err = b.b.ReadAll(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, false, nil
	}
	return data, err == nil, err
}

// exists reports whether an object is there.
func (b *storageBucket) exists(ctx context.Context, key string) (bool, error) {
	return b.b.Exists(ctx, key)
}

// remove deletes an object; one that is not there is no error.
func (b *storageBucket) remove(ctx context.Context, key string) error {
	err := b.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

// list returns the keys under prefix, at most limit of them.
func (b *storageBucket) list(ctx context.Context, prefix string, limit int) ([]string, error) {
	it := b.b.List(&blob.ListOptions{Prefix: prefix})
	var keys []string
	for len(keys) < limit {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return keys, err
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
	return keys, nil
}

func (b *storageBucket) close() error { return b.b.Close() }

// storagePermanent reports errors of the store that a retry cannot fix:
// no such bucket, access denied, a request the store refuses (an HTTP 4xx
// other than a timeout, a conflict or throttling).
func storagePermanent(err error) bool {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.PermissionDenied, gcerrors.InvalidArgument, gcerrors.FailedPrecondition:
		return true
	}
	status := 0
	var withStatus interface{ HTTPStatusCode() int } // S3 (smithy-go)
	var az *azcore.ResponseError
	var gcs *googleapi.Error
	switch {
	case errors.As(err, &withStatus):
		status = withStatus.HTTPStatusCode()
	case errors.As(err, &az):
		status = az.StatusCode
	case errors.As(err, &gcs):
		status = gcs.Code
	}
	return status >= 400 && status < 500 && status != http.StatusRequestTimeout &&
		status != http.StatusConflict && status != http.StatusTooManyRequests
}
