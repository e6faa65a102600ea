//! Canonical XML for comparisons (API policies): APIM answers a reformatted
//! document on GET, so desired and live documents are compared by their
//! canonical forms (see [`DiffRules::xml`](super::DiffRules::xml)).

use quick_xml::events::Event;
use std::collections::BTreeSet;

/// Why a document has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (byte {position})")]
pub struct XmlError {
    /// Byte offset in the document where the parser stopped.
    pub position: usize,
    /// The parser's message.
    pub message: String,
}

/// The text an entity or character reference in text content stands for.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
}

fn write_start(
    out: &mut String,
    e: &quick_xml::events::BytesStart<'_>,
    reader: &quick_xml::Reader<&[u8]>,
) -> Result<(), XmlError> {
    out.push('<');
    out.push_str(&String::from_utf8_lossy(e.name().as_ref()));
    let mut attrs = BTreeSet::new();
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError {
            position: reader.error_position() as usize,
            message: err.to_string(),
        })?;
        let value = a
            .unescape_value()
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
        attrs.insert((String::from_utf8_lossy(a.key.as_ref()).into_owned(), value));
    }
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(&k);
        out.push_str("=\"");
        out.push_str(&quick_xml::escape::escape(v.as_str()));
        out.push('"');
    }
    out.push('>');
    Ok(())
}

/// A canonical form of an XML document: elements, attributes (sorted,
/// entity-decoded) and non-blank text (trimmed), without comments, processing
/// instructions or formatting. Equal canonical forms mean "no change".
pub fn canonicalize(xml: &str) -> Result<String, XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut out = String::new();
    loop {
        match reader.read_event() {
            Err(e) => {
                return Err(XmlError {
                    position: reader.error_position() as usize,
                    message: e.to_string(),
                });
            }
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => write_start(&mut out, &e, &reader)?,
            Ok(Event::Empty(e)) => {
                write_start(&mut out, &e, &reader)?;
                out.push_str("</");
                out.push_str(&String::from_utf8_lossy(e.name().as_ref()));
                out.push('>');
            }
            Ok(Event::End(e)) => {
                out.push_str("</");
                out.push_str(&String::from_utf8_lossy(e.name().as_ref()));
                out.push('>');
            }
            Ok(Event::Text(t)) => {
                let raw = String::from_utf8_lossy(t.as_ref()).into_owned();
                let text = quick_xml::escape::unescape(&raw)
                    .map(|c| c.into_owned())
                    .unwrap_or(raw);
                if !text.trim().is_empty() {
                    out.push_str(&quick_xml::escape::escape(text.trim()));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(text) = resolve_ref(&r) {
                    out.push_str(&quick_xml::escape::escape(text.as_str()));
                }
            }
            Ok(Event::CData(t)) => {
                let text = String::from_utf8_lossy(t.as_ref()).into_owned();
                out.push_str(&quick_xml::escape::escape(text.as_str()));
            }
            Ok(_) => {}
        }
    }
    Ok(out)
}

/// Whether two documents are the same XML. Documents that do not parse are
/// compared as text.
pub fn same_xml(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (canonicalize(a), canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_comments_attribute_order_and_entities_do_not_matter() {
        let a = "<policies>\n  <inbound>\n    <!-- c -->\n    <base />\n    <set-header name=\"x\" exists-action=\"override\"><value>a &amp; b</value></set-header>\n  </inbound>\n</policies>";
        let b = "<policies><inbound><base></base><set-header exists-action='override' name='x'><value>a &#38; b</value></set-header></inbound></policies>";
        assert!(same_xml(a, b));
        let c = "<policies><inbound><base/><set-header exists-action='skip' name='x'><value>a &amp; b</value></set-header></inbound></policies>";
        assert!(!same_xml(a, c));
        assert!(!same_xml(a, "<policies><inbound></policies>"));
    }
}
