//! Analysis history in IndexedDB: reports (never captures) with date, file name, size and Tor
//! flow count. Survives reloads; one entry can be reopened or deleted, or all cleared. The list
//! and the reports live in two stores, so listing never loads the (possibly large) reports.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

const DB: &str = "torsift";
const VERSION: u32 = 2;
/// Metadata of each analysis, keyed by `id`.
const ENTRIES: &str = "entries";
/// The report JSON of each analysis, keyed by the same id.
const REPORTS: &str = "reports";

/// One saved analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: f64,
    pub date: String,
    pub file: String,
    pub size: u64,
    pub tor_flows: u64,
}

/// Resolves when an IndexedDB request succeeds (with its result) or fails.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let req = request.clone();
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let r = req.clone();
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &r.result().unwrap_or(JsValue::NULL));
        });
        let err = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("IndexedDB request failed"));
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(err.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = gloo::utils::window().indexed_db()?.ok_or("IndexedDB is not available")?;
    let request = factory.open_with_u32(DB, VERSION)?;
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let db = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
        if let Some(db) = db {
            for old in ["history", ENTRIES, REPORTS] {
                let _ = db.delete_object_store(old);
            }
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&JsValue::from_str("id"));
            let _ = db.create_object_store_with_optional_parameters(ENTRIES, &params);
            let _ = db.create_object_store(REPORTS);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = done(&request).await?;
    drop(upgrade);
    db.dyn_into()
}

fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<web_sys::IdbTransaction, JsValue> {
    db.transaction_with_str_sequence_and_mode(&Array::of2(&ENTRIES.into(), &REPORTS.into()), mode)
}

pub async fn add(date: &str, file: &str, size: u64, tor_flows: u64, report_json: &JsValue) -> Result<(), JsValue> {
    let db = open().await?;
    // Unique and increasing: milliseconds since the epoch plus a random fraction.
    let id = js_sys::Date::now() + js_sys::Math::random();
    let entry = Object::new();
    Reflect::set(&entry, &"id".into(), &id.into())?;
    Reflect::set(&entry, &"date".into(), &date.into())?;
    Reflect::set(&entry, &"file".into(), &file.into())?;
    Reflect::set(&entry, &"size".into(), &(size as f64).into())?;
    Reflect::set(&entry, &"tor_flows".into(), &(tor_flows as f64).into())?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    tx.object_store(REPORTS)?.put_with_key(report_json, &id.into())?;
    done(&tx.object_store(ENTRIES)?.put(&entry)?).await?;
    Ok(())
}

pub async fn list() -> Result<Vec<Entry>, JsValue> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let all: Array = done(&tx.object_store(ENTRIES)?.get_all()?).await?.dyn_into()?;
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).unwrap_or(JsValue::NULL);
    let mut out: Vec<Entry> = all
        .iter()
        .map(|o| Entry {
            id: get(&o, "id").as_f64().unwrap_or(0.0),
            date: get(&o, "date").as_string().unwrap_or_default(),
            file: get(&o, "file").as_string().unwrap_or_default(),
            size: get(&o, "size").as_f64().unwrap_or(0.0) as u64,
            tor_flows: get(&o, "tor_flows").as_f64().unwrap_or(0.0) as u64,
        })
        .collect();
    out.reverse(); // newest first
    Ok(out)
}

/// The saved report of one analysis.
pub async fn report(id: f64) -> Result<String, JsValue> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    report_text(&done(&tx.object_store(REPORTS)?.get(&id.into())?).await?).ok_or_else(|| "no such report".into())
}

/// A report's JSON as the worker posts it and the history keeps it: UTF-8 bytes in a
/// `Uint8Array`, or a string (as reports were kept before).
pub fn report_text(v: &JsValue) -> Option<String> {
    match v.dyn_ref::<js_sys::Uint8Array>() {
        // Never refused for a bad byte (the page would wait for the report forever): such a
        // byte reads as U+FFFD and the reader says where the JSON breaks, if it does.
        Some(bytes) => Some(
            String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        None => v.as_string(),
    }
}

pub async fn delete(id: f64) -> Result<(), JsValue> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    tx.object_store(REPORTS)?.delete(&id.into())?;
    done(&tx.object_store(ENTRIES)?.delete(&id.into())?).await?;
    Ok(())
}

pub async fn clear() -> Result<(), JsValue> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    tx.object_store(REPORTS)?.clear()?;
    done(&tx.object_store(ENTRIES)?.clear()?).await?;
    Ok(())
}
