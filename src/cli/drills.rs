//! `sunward drill run|list`.

use std::process::ExitCode;

#[derive(clap::Subcommand, Debug, Clone)]
pub enum DrillCmd {
    /// List the shipped scenarios
    List,
}

pub async fn run(_cmd: DrillCmd) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
