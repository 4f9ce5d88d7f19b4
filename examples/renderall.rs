//! throwaway: origin -> rendered html for an export
fn main() {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap())
            .unwrap();
    let mut out = serde_json::Map::new();
    for t in v["threads"].as_array().unwrap() {
        for c in t["comments"].as_array().unwrap() {
            out.insert(
                c["origin"].as_str().unwrap().to_string(),
                cairn::render::markdown::to_html(c["body"].as_str().unwrap()).into(),
            );
        }
    }
    println!("{}", serde_json::Value::Object(out));
}
