package edge

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Connection types as nats-server reports them in an auth callout request
// (jwt.ClientInformation.Type).
const (
	ClientTypeNATS      = "nats"
	ClientTypeWebsocket = "websocket"
)

// CalloutAnchors are the two subordinate CA certificates the auth callout
// tells apart: the listeners trust one each (ClientTLS, AgentsTLS), and the
// callout checks again which one a chain ends at before it reads a SAN.
type CalloutAnchors struct {
	Device  *x509.Certificate
	Service *x509.Certificate
}

// Grant is what the auth callout gives one connection: the account it is
// bound to, a name for logs and connz, and its permissions (nil: the
// account's full rights, for the system user only).
type Grant struct {
	Account     string
	Name        string
	Permissions *Permissions
}

// Authorize maps a connection to its user from the certificate chains the
// server verified (leaf first, anchor last). A chain that ends at the device
// CA and arrived on the agents' listener maps to that device (exactly one
// URI SAN DeviceURISAN(id), CN = id); one that ends at the service CA and
// arrived on the client port maps to a known service user. Anything else is
// refused: a service SAN on a device chain, a device SAN on a service chain,
// either CA on the other's listener, an unknown user, several SANs.
func (a CalloutAnchors) Authorize(clientType string, chains [][]*x509.Certificate) (Grant, error) {
	if a.Device == nil || a.Service == nil {
		return Grant{}, errors.New("auth callout: both trust anchors are required")
	}
	if len(chains) == 0 {
		return Grant{}, errors.New("no verified certificate chain: the listener did not verify a client certificate")
	}
	var errs []error
	for _, chain := range chains {
		g, err := a.authorizeChain(clientType, chain)
		if err == nil {
			return g, nil
		}
		errs = append(errs, err)
	}
	return Grant{}, errors.Join(errs...)
}

func (a CalloutAnchors) authorizeChain(clientType string, chain []*x509.Certificate) (Grant, error) {
	if len(chain) < 2 {
		return Grant{}, errors.New("the chain has no issuing CA")
	}
	leaf, anchor := chain[0], chain[len(chain)-1]
	switch {
	case anchor.Equal(a.Device):
		if clientType != ClientTypeWebsocket {
			return Grant{}, fmt.Errorf("a device certificate (%s) may connect only through the agents' listener, not %q", leaf.Subject.CommonName, clientType)
		}
		if err := verifyLeaf(leaf, a.Device); err != nil {
			return Grant{}, err
		}
		uri, err := onlyURI(leaf)
		if err != nil {
			return Grant{}, err
		}
		id, err := DeviceIDFromURISAN(uri)
		if err != nil {
			return Grant{}, err
		}
		if leaf.Subject.CommonName != id {
			return Grant{}, fmt.Errorf("device certificate CN %q is not its SAN's device id %q", leaf.Subject.CommonName, id)
		}
		p := DevicePermissions(id)
		return Grant{Account: AccountEdge, Name: "device:" + id, Permissions: &p}, nil
	case anchor.Equal(a.Service):
		if clientType != ClientTypeNATS {
			return Grant{}, fmt.Errorf("a service certificate (%s) may connect only on the in-cluster client port, not %q", leaf.Subject.CommonName, clientType)
		}
		if err := verifyLeaf(leaf, a.Service); err != nil {
			return Grant{}, err
		}
		uri, err := onlyURI(leaf)
		if err != nil {
			return Grant{}, err
		}
		user, ok := strings.CutPrefix(uri, NATSUserURISANPrefix)
		if !ok {
			return Grant{}, fmt.Errorf("URI SAN %q is not a service identity (%s<user>)", uri, NATSUserURISANPrefix)
		}
		if user == UserSystem {
			return Grant{Account: AccountSys, Name: uri}, nil
		}
		p, ok := ServicePermissions()[user]
		if !ok {
			return Grant{}, fmt.Errorf("no service user %q", user)
		}
		return Grant{Account: AccountEdge, Name: uri, Permissions: &p}, nil
	}
	return Grant{}, fmt.Errorf("chain of %q ends at %q, which is neither the device CA nor the service CA", leaf.Subject.CommonName, anchor.Subject.CommonName)
}

// verifyLeaf checks the leaf again against the one anchor, for client auth:
// the callout does not take the server's word for which CA signed it.
func verifyLeaf(leaf, anchor *x509.Certificate) error {
	roots := x509.NewCertPool()
	roots.AddCert(anchor)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("certificate %q does not verify against %q: %w", leaf.Subject.CommonName, anchor.Subject.CommonName, err)
	}
	return nil
}

// onlyURI returns the certificate's one URI SAN; several would leave the
// identity ambiguous.
func onlyURI(c *x509.Certificate) (string, error) {
	if len(c.URIs) != 1 {
		return "", fmt.Errorf("certificate %q has %d URI SANs; an identity needs exactly one", c.Subject.CommonName, len(c.URIs))
	}
	return (*url.URL)(c.URIs[0]).String(), nil
}
