//! `chat-contracts`: writes the contract documents into the repository
//! (`--check`: only says which differ, and fails).

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|a| a == "--check");
    let docs = match chat_contracts::documents() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("chat-contracts: cannot generate the contracts: {e}");
            return ExitCode::FAILURE;
        }
    };
    let root = chat_contracts::repo_root();
    let mut stale = 0;
    for doc in docs {
        let path = root.join(doc.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == doc.text {
            println!("{}: up to date", doc.path);
            continue;
        }
        if check {
            eprintln!("{}: differs from the code", doc.path);
            stale += 1;
            continue;
        }
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &doc.text));
        if let Err(e) = written {
            eprintln!("chat-contracts: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}: written", doc.path);
    }
    if stale > 0 {
        eprintln!("run `{}` to regenerate", chat_contracts::REGENERATE);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
