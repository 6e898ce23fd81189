package mongo

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/certd/certd/cert"
)

// siteDoc is a certified site. Documents written before sites had fields
// hold a plain string (the name); UnmarshalBSONValue reads both.
type siteDoc struct {
	Name    string `bson:"name"`
	Address string `bson:"address,omitempty"`
	Scope   string `bson:"scope,omitempty"`
}

// UnmarshalBSONValue reads a site document or a string.
func (s *siteDoc) UnmarshalBSONValue(typ byte, data []byte) error {
	rv := bson.RawValue{Type: bson.Type(typ), Value: data}
	if name, ok := rv.StringValueOK(); ok {
		*s = siteDoc{Name: name}
		return nil
	}
	doc, ok := rv.DocumentOK()
	if !ok {
		return fmt.Errorf("site: want a string or a document, got BSON type %v", rv.Type)
	}
	type plain siteDoc
	var p plain
	if err := bson.Unmarshal(doc, &p); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	*s = siteDoc(p)
	return nil
}

func toSiteDocs(sites []cert.Site) []siteDoc {
	if sites == nil {
		return nil
	}
	out := make([]siteDoc, len(sites))
	for i, s := range sites {
		out[i] = siteDoc(s)
	}
	return out
}

func fromSiteDocs(docs []siteDoc) []cert.Site {
	if docs == nil {
		return nil
	}
	out := make([]cert.Site, len(docs))
	for i, d := range docs {
		out[i] = cert.Site(d)
	}
	return out
}
