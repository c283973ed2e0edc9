//! Directory requests: tor fetches consensuses, descriptors and keys over plain HTTP from
//! DirPorts with paths under `/tor/` (dir-spec §6.2 "Downloading network-status documents",
//! §5.2), e.g. `/tor/status-vote/current/consensus-microdesc/<fp>+<fp>.z`, `/tor/server/d/…`,
//! `/tor/micro/d/…`, `/tor/keys/…`; relays upload descriptors with `POST /tor/` and
//! authorities exchange votes with `POST /tor/post/vote` (dir-spec §3.3, §1.3).

use crate::analysis::tls::HttpRequest;
use serde::Serialize;

const TOR_PATHS: [&str; 7] =
    ["/tor/status-vote/", "/tor/server/", "/tor/micro/", "/tor/keys/", "/tor/extra/", "/tor/rendezvous2/", "/tor/hs/"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectoryRequest {
    pub method: String,
    pub path: String,
    pub accept_encoding: Option<String>,
}

pub fn directory_request(req: &HttpRequest) -> Option<DirectoryRequest> {
    let upload = req.method == "POST" && (req.target == "/tor/" || req.target.starts_with("/tor/post/"));
    (upload || TOR_PATHS.iter().any(|p| req.target.starts_with(p))).then(|| DirectoryRequest {
        method: req.method.clone(),
        path: req.target.clone(),
        accept_encoding: req.accept_encoding.clone(),
    })
}
