// Package callout is the NATS auth callout: it answers the server's
// authorization requests ($SYS.REQ.USER.AUTH) by mapping the client's
// verified certificate chain to a user (edge.CalloutAnchors.Authorize, the
// rules) and signing that user's JWT with the callout's account key. The
// server config that sends requests here is edge.Authorization.
package callout

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// Subject is where nats-server sends authorization requests.
const Subject = "$SYS.REQ.USER.AUTH"

// QueueGroup spreads requests over the callout's replicas; any replica
// may answer, since all sign with the same account key.
const QueueGroup = "nats-auth"

// MaxSession caps a user JWT's lifetime: the server closes the connection
// when it expires, so every client goes through the OCSP check and this
// callout again at least this often, and a revoked device that stayed
// connected is dropped within MaxSession. A JWT never outlives the client
// certificate it was granted for.
const MaxSession = 12 * time.Hour

// ResponseTTL is how long a client may answer a request it received
// (edge.Permissions.AllowResponses): one reply within this window.
const ResponseTTL = time.Minute

// Responder signs authorization responses.
type Responder struct {
	// Issuer is the account key (seed) whose public half is the server's
	// auth_callout.issuer.
	Issuer  nkeys.KeyPair
	Anchors edge.CalloutAnchors
	// Decide replaces Anchors.Authorize when set (edge/natstest uses it to
	// show that its checks notice a callout that grants too much).
	Decide func(clientType string, chains [][]*x509.Certificate) (edge.Grant, error)
	Log    *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Respond turns one request JWT into a signed response JWT: a user JWT for
// the mapped identity, or an error the server reports as an authorization
// violation. It never returns the request's credentials in either.
func (r *Responder) Respond(request []byte) ([]byte, error) {
	rc, err := jwt.DecodeAuthorizationRequestClaims(string(request))
	if err != nil {
		return nil, fmt.Errorf("decode authorization request: %w", err)
	}
	resp := jwt.NewAuthorizationResponseClaims(rc.UserNkey)
	resp.Audience = rc.Server.ID
	grant, leaf, err := r.decide(rc)
	log := r.logger().With("client", rc.ClientInformation.Host, "type", rc.ClientInformation.Type, "server", rc.Server.Name)
	if err != nil {
		log.Warn("refused", "reason", err.Error())
		resp.Error = "not authorized"
	} else {
		userJWT, err := r.userJWT(rc.UserNkey, grant, leaf)
		if err != nil {
			return nil, err
		}
		log.Info("authorized", "user", grant.Name, "account", grant.Account)
		resp.Jwt = userJWT
	}
	out, err := resp.Encode(r.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sign authorization response: %w", err)
	}
	return []byte(out), nil
}

func (r *Responder) decide(rc *jwt.AuthorizationRequestClaims) (edge.Grant, *x509.Certificate, error) {
	if rc.TLS == nil || len(rc.TLS.VerifiedChains) == 0 {
		return edge.Grant{}, nil, errors.New("no verified client certificate")
	}
	var chains [][]*x509.Certificate
	for i, pems := range rc.TLS.VerifiedChains {
		var chain []*x509.Certificate
		for _, p := range pems {
			block, _ := pem.Decode([]byte(p))
			if block == nil {
				return edge.Grant{}, nil, fmt.Errorf("verified chain %d holds a non-PEM entry", i)
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return edge.Grant{}, nil, fmt.Errorf("verified chain %d: %w", i, err)
			}
			chain = append(chain, c)
		}
		chains = append(chains, chain)
	}
	decide := r.Anchors.Authorize
	if r.Decide != nil {
		decide = r.Decide
	}
	g, err := decide(rc.ClientInformation.Type, chains)
	if err != nil {
		return edge.Grant{}, nil, err
	}
	return g, chains[0][0], nil
}

func (r *Responder) userJWT(userNkey string, g edge.Grant, leaf *x509.Certificate) (string, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	uc := jwt.NewUserClaims(userNkey)
	// In config mode the audience is the account the user is placed in.
	uc.Audience = g.Account
	uc.Name = g.Name
	expires := now().Add(MaxSession)
	if leaf.NotAfter.Before(expires) {
		expires = leaf.NotAfter
	}
	uc.Expires = expires.Unix()
	if p := g.Permissions; p != nil {
		uc.Pub.Allow.Add(p.PublishAllow...)
		uc.Pub.Deny.Add(p.PublishDeny...)
		uc.Sub.Allow.Add(p.SubscribeAllow...)
		uc.Sub.Deny.Add(p.SubscribeDeny...)
		if p.AllowResponses {
			uc.Resp = &jwt.ResponsePermission{MaxMsgs: 1, Expires: ResponseTTL}
		}
	}
	out, err := uc.Encode(r.Issuer)
	if err != nil {
		return "", fmt.Errorf("sign user JWT for %s: %w", g.Name, err)
	}
	return out, nil
}

func (r *Responder) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Serve answers authorization requests on nc until ctx ends. nc must be
// connected as the callout's own user (edge.UserAuthCallout, account AUTH).
func Serve(ctx context.Context, nc *nats.Conn, r *Responder) error {
	sub, err := nc.QueueSubscribe(Subject, QueueGroup, func(m *nats.Msg) {
		out, err := r.Respond(m.Data)
		if err != nil {
			// No answer: the server times the client out and refuses it.
			r.logger().Error("cannot answer authorization request", "err", err.Error())
			return
		}
		if err := m.Respond(out); err != nil {
			r.logger().Error("cannot send authorization response", "err", err.Error())
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", Subject, err)
	}
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("subscribe %s: %w", Subject, err)
	}
	<-ctx.Done()
	return sub.Drain()
}

// LoadAnchors reads the two trust anchors (one PEM certificate each).
func LoadAnchors(devicePEM, servicePEM []byte) (edge.CalloutAnchors, error) {
	parse := func(name string, b []byte) (*x509.Certificate, error) {
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: no PEM certificate", name)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("%s: %q is not a CA certificate", name, c.Subject.CommonName)
		}
		return c, nil
	}
	d, err := parse("device CA", devicePEM)
	if err != nil {
		return edge.CalloutAnchors{}, err
	}
	s, err := parse("service CA", servicePEM)
	if err != nil {
		return edge.CalloutAnchors{}, err
	}
	if d.Equal(s) {
		return edge.CalloutAnchors{}, errors.New("the device and service CA files hold the same certificate")
	}
	return edge.CalloutAnchors{Device: d, Service: s}, nil
}
