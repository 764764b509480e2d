//! `parindex`: config → telemetry → app → run, plus a few administrative subcommands.

use clap::{Parser, Subcommand};
use parindex_api::config::Config;
use parindex_api::startup::Application;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "parindex",
    version,
    about = "The PAR index (chỉ số CCHC) service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default when no subcommand is given).
    Serve,
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        /// Where to write it, e.g. openapi/openapi.json; stdout when omitted.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Create an admin account, or reset an existing one's password (and re-activate it).
    ///
    /// The password is read from standard input with --password-stdin; otherwise a random
    /// one is generated and printed.
    CreateAdmin {
        #[arg(long, default_value = "admin")]
        username: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Load the demo district (Huyện Vĩnh Linh: 18 communes and towns, 2022 and 2023,
    /// Xã Vĩnh Long reproducing the seed letter) into the configured database.
    DemoData {
        /// Then step 2, ILLUSTRATIVE: 2025's reorganisation (the district abolished on
        /// 2025-07-01, its communes merged into 4 under the province, a 2025 cycle ranked
        /// at province level). Made-up groupings and figures, labelled as such.
        #[arg(long)]
        reorganise: bool,
    },
    /// Fill the database with generated data for load benchmarks: provinces → districts →
    /// communes, a framework per province and year, finalized files (batched inserts).
    Generate {
        #[arg(long, default_value_t = 10_000)]
        communes: usize,
        /// Comma-separated years.
        #[arg(long, default_value = "2022,2023", value_delimiter = ',')]
        years: Vec<i32>,
        #[arg(long, default_value_t = 16)]
        communes_per_district: usize,
        #[arg(long, default_value_t = 10)]
        districts_per_province: usize,
        /// Appraisals of the last year left in progress (to benchmark finalization).
        #[arg(long, default_value_t = 0)]
        pending: usize,
        #[arg(long, default_value_t = 2023)]
        seed: u64,
        /// Prefix of the generated unit codes (to generate twice into one database).
        #[arg(long, default_value = "G")]
        prefix: String,
    },
    /// Evidence files' storage.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Probe a running server's readiness (for container health checks); exit 0 when ready.
    Healthcheck {
        /// Default: `/health/ready` at PARINDEX_ADDR (on loopback when it listens on all
        /// addresses), as the server itself would listen.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print a backtrace of this call: checks that the binary (and the debug file shipped
    /// beside it) can name source files and lines (`scripts/release.sh` runs it).
    #[command(hide = true)]
    BacktraceCheck,
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Remove stored blobs no evidence file names (and spool files left by crashes), once
    /// untouched for --older-than-minutes; print each one removed.
    Gc {
        #[arg(long, default_value_t = 60)]
        older_than_minutes: u64,
        /// Print what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Verify every evidence PDF's digital signatures again with the trust anchors
    /// configured now (PARINDEX_TRUST_ANCHORS), e.g. after adding the government's root CA;
    /// print the files whose verdicts changed.
    VerifySignatures,
}

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("ignoring .env: {e}");
    }
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi { output } => write_openapi(output),
        Command::BacktraceCheck => {
            println!("{}", std::backtrace::Backtrace::force_capture());
            ExitCode::SUCCESS
        }
        Command::Healthcheck { url } => healthcheck(&url.unwrap_or_else(|| {
            parindex_api::config::readiness_url(std::env::var("PARINDEX_ADDR").ok().as_deref())
        })),
        Command::Generate {
            communes,
            years,
            communes_per_district,
            districts_per_province,
            pending,
            seed,
            prefix,
        } => administer(|config| {
            let options = parindex_api::generate::GenerateOptions {
                communes,
                years,
                communes_per_district,
                districts_per_province,
                pending,
                seed,
                prefix,
            };
            generate(config, options)
        }),
        Command::Evidence {
            command:
                EvidenceCommand::Gc {
                    older_than_minutes,
                    dry_run,
                },
        } => administer(|config| evidence_gc(config, older_than_minutes, dry_run)),
        Command::Evidence {
            command: EvidenceCommand::VerifySignatures,
        } => administer(verify_signatures),
        Command::DemoData { reorganise } => administer(|config| demo_data(config, reorganise)),
        Command::CreateAdmin {
            username,
            password_stdin,
        } => administer(|config| create_admin(config, username, password_stdin)),
        Command::Serve => {
            let config = match Config::from_env() {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            // Kept until the server has stopped: its drop exports the last spans.
            let _telemetry = parindex_api::telemetry::init(&config);
            run_async(serve(config))
        }
    }
}

/// An administrative command: the configuration from the environment (exit 2 when it is
/// invalid), logs only (no traces), then the command.
fn administer<Fut>(command: impl FnOnce(Config) -> Fut) -> ExitCode
where
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    match Config::from_env() {
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Ok(config) => {
            let _telemetry = parindex_api::telemetry::init_logs(config.log_format);
            run_async(command(config))
        }
    }
}

fn run_async(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(fut);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn evidence_gc(config: Config, older_than_minutes: u64, dry_run: bool) -> anyhow::Result<()> {
    let state = parindex_api::startup::prepare(config).await?;
    let grace = std::time::Duration::from_secs(older_than_minutes.saturating_mul(60));
    let report = parindex_api::services::evidence::collect_garbage(&state, grace, dry_run).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for blob in &report.removed {
        println!("{verb} blob {} ({} bytes)", blob.sha256, blob.size);
    }
    for path in &report.spool_files {
        println!("{verb} spool file {}", path.display());
    }
    println!(
        "{}: {} blobs named by evidence files kept, {} unnamed but recent kept, {verb} {} blobs ({} bytes) and {} spool files",
        state.blobs.describe(),
        report.kept_named,
        report.kept_recent,
        report.removed.len(),
        report.removed.iter().map(|b| b.size).sum::<u64>(),
        report.spool_files.len()
    );
    Ok(())
}

async fn verify_signatures(config: Config) -> anyhow::Result<()> {
    let state = parindex_api::startup::prepare(config).await?;
    let report = parindex_api::services::evidence::reverify_signatures(&state).await?;
    for id in &report.changed {
        println!("evidence file {id}: its signatures' verdicts changed");
    }
    for (id, why) in &report.failed {
        println!("evidence file {id}: not verified: {why}");
    }
    println!(
        "{} PDFs verified, {} changed, {} not verified",
        report.checked,
        report.changed.len(),
        report.failed.len()
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} files could not be verified", report.failed.len())
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
    tracing::info!(
        addr = %config.addr,
        port = app.port(),
        database = %parindex_api::config::redact_url(&config.database_url),
        "parindex listening; API docs at /swagger-ui/"
    );
    app.run().await?;
    tracing::info!("parindex stopped");
    Ok(())
}

async fn generate(
    config: Config,
    options: parindex_api::generate::GenerateOptions,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let state = parindex_api::startup::prepare(config).await?;
    let progress = std::io::stderr().is_terminal();
    let g = parindex_api::generate::generate(&state, &options, progress).await?;
    println!(
        "generated {} provinces, {} districts, {} communes, {} files and {} entries in {:.1} s",
        g.provinces,
        g.districts,
        g.communes,
        g.communes * options.years.len(),
        g.entries,
        g.seconds
    );
    Ok(())
}

async fn demo_data(config: Config, reorganise: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let state = parindex_api::startup::prepare(config).await?;
    if parindex_api::demo::load(&state).await? {
        println!(
            "step 1: loaded the demo district Huyện Vĩnh Linh (18 communes and towns, 2022 and 2023) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        println!(
            "demo accounts (password {:?}):",
            parindex_api::demo::DEMO_PASSWORD
        );
        for (username, role, unit, name) in parindex_api::demo::DEMO_ACCOUNTS {
            println!("  {username:<20} {:<20} {unit} ({name})", role.as_str());
        }
    } else {
        println!("step 1: the demo district is already loaded; nothing changed");
    }
    if reorganise {
        match parindex_api::demo::reorganise(&state).await? {
            Some(r) => println!(
                "step 2 ({}): 2025-07-01, the district abolished, its communes merged into {} communes \
                 under the province (id {}), a 2025 cycle appraised there by the province's agencies \
                 (vpubnd.thamdinh, stp.thamdinh, stc.thamdinh, skhcn.thamdinh; snv.tonghop consolidating), \
                 ranked and published; vinhlinh.thamdinh and vinhlinh.xem now belong to the province",
                parindex_api::demo::ILLUSTRATIVE,
                r.new_commune_ids.len(),
                r.province_id
            ),
            None => println!("step 2: the reorganisation is already played out; nothing changed"),
        }
    }
    Ok(())
}

async fn create_admin(
    config: Config,
    username: String,
    password_stdin: bool,
) -> anyhow::Result<()> {
    use parindex_api::auth::password::PasswordHasher;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (parindex_api::auth::random_token(12), true)
    };
    parindex_api::db::migrate(&config).await?;
    let db = parindex_api::db::connect(&config).await?;
    let hasher = PasswordHasher::new(config.password_hashing)?;
    let created =
        parindex_api::services::accounts::create_or_reset_admin(&db, &hasher, &username, &password)
            .await?;
    let what = if created { "created" } else { "reset" };
    if generated {
        println!("{what} admin account {username:?} with password: {password}");
    } else {
        println!("{what} admin account {username:?}");
    }
    Ok(())
}

fn write_openapi(output: Option<PathBuf>) -> ExitCode {
    let json = match parindex_api::openapi::spec_json() {
        Ok(json) => json,
        Err(e) => {
            eprintln!("the OpenAPI document does not build: {e}");
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(&path, json) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

/// A minimal HTTP/1.0 GET over std's TcpStream: the container image needs no curl.
fn healthcheck(url: &str) -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;

    let Some(rest) = url.strip_prefix("http://") else {
        eprintln!("only http:// URLs are supported");
        return ExitCode::from(2);
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let probe = || -> std::io::Result<bool> {
        let addr = authority
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head)?;
        Ok(head[..n].starts_with(b"HTTP/1.1 200") || head[..n].starts_with(b"HTTP/1.0 200"))
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("{url}: not ready");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            ExitCode::FAILURE
        }
    }
}
