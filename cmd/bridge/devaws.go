package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/credentials"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/awsemu"
	"github.com/sagebridge/sagebridge/internal/config"
)

// devEndpointFile holds the emulator's URL while a dev daemon runs, so that
// scripts and a second terminal can point the AWS CLI or an SDK at it.
const devEndpointFile = "dev-aws-endpoint"

// devAWS is dev mode's AWS account: the emulator on loopback, holding the
// configured account and a domain of the configured id.
type devAWS struct {
	emu  *awsemu.Emulator
	url  string
	file string
}

func startDevAWS(cfg *config.Config) (*devAWS, error) {
	emu := awsemu.New(awsemu.Options{AccountID: cfg.AWS.AccountID, Region: cfg.AWS.Region})
	if _, err := emu.AddDomain(awsemu.Domain{ID: cfg.AWS.SageMaker.DomainID}); err != nil {
		return nil, fmt.Errorf("dev AWS emulator: %w", err)
	}
	url, err := emu.Start()
	if err != nil {
		return nil, fmt.Errorf("dev AWS emulator: %w", err)
	}
	d := &devAWS{emu: emu, url: url, file: filepath.Join(cfg.DataDir, devEndpointFile)}
	if err := writePrivateFile(d.file, []byte(url+"\n")); err != nil {
		emu.Close()
		return nil, err
	}
	return d, nil
}

// close stops the emulator and removes the endpoint file, which would
// otherwise name a port nothing listens on. Its state is in memory only:
// the next start begins with an empty account, and the sync's drift check
// recreates what the records say should exist.
func (d *devAWS) close() error {
	err := d.emu.Close()
	if rerr := os.Remove(d.file); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", d.file, rerr))
	}
	return err
}

// newAWSClients builds the SDK clients: on the standard configuration
// chain (credentials, and AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SAGEMAKER,
// which the SDK honours itself) with the configured region and rate
// limits, or, given the dev emulator's URL, pointed at it with static
// credentials (the emulator verifies no signature).
func newAWSClients(ctx context.Context, cfg *config.Config, devURL string) (*bridgeaws.Clients, error) {
	o := bridgeaws.Options{Region: cfg.AWS.Region, IAMRate: cfg.AWS.RateLimits.IAM, SageMakerRate: cfg.AWS.RateLimits.SageMaker}
	if devURL != "" {
		o.IAMEndpoint, o.SageMakerEndpoint = devURL, devURL
		o.Credentials = credentials.NewStaticCredentialsProvider("dev", "dev", "")
	}
	c, err := bridgeaws.New(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	return c, nil
}

// writePrivateFile writes data to path, mode 0600, by rename so a reader
// never sees half of it and an older file's wider mode is not kept.
func writePrivateFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
