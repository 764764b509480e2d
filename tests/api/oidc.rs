//! Sign-in through an OpenID Connect provider: a provider run by the test (its discovery
//! document and key set over HTTP, Ed25519 keys) issues tokens; one reaches
//! `/api/v1/auth/me` as the account its `preferred_username` names, with the service's own
//! role; a wrong audience, another issuer, an expired token, an unknown key and an unknown
//! or inactive account are each 401 with a reason; after the provider rotates its key, new
//! tokens work (the key set is fetched again for the unknown key id). With passwords
//! turned off, only the break-glass admin logs in with one.

use crate::fixtures::{PASSWORD, world};
use crate::helpers::{ADMIN_PASSWORD, Database, TestApp, backends};
use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Two Ed25519 keys (made for these tests with `openssl genpkey -algorithm ed25519`) and
/// their public halves (`x`, base64url).
const KEY_A: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDS6zInUO1ND+ppHHZ9QWvIIVuCfUOPHhgJ7pZ3u6xXT\n-----END PRIVATE KEY-----\n";
const X_A: &str = "azM42uxvgChlbMP8KiEr-mJWQu7qkMEA4ppBNe87MpQ";
const KEY_B: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEII2v7FyKA/ZDIfX3WipS1zpn1dI8FKSK2UXB65vMXVg4\n-----END PRIVATE KEY-----\n";
const X_B: &str = "zM-Zhwp0QUASi8d3a8vDBC6ov-CdqYyNCFYudJaMSV0";
const AUDIENCE: &str = "parindex";

/// The provider: its issuer URL, and the keys it publishes now.
struct Provider {
    issuer: String,
    published: Arc<Mutex<Vec<(&'static str, &'static str)>>>,
}

impl Provider {
    async fn start() -> Provider {
        let published = Arc::new(Mutex::new(vec![("key-a", X_A)]));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!(
            "http://127.0.0.1:{}/realms/cchc",
            listener.local_addr().unwrap().port()
        );
        let (keys, iss) = (published.clone(), issuer.clone());
        let server = HttpServer::new(move || {
            let keys = keys.clone();
            let iss = iss.clone();
            App::new()
                .route(
                    "/realms/cchc/.well-known/openid-configuration",
                    web::get().to(move || {
                        let iss = iss.clone();
                        async move {
                            HttpResponse::Ok().json(json!({
                                "issuer": iss,
                                "jwks_uri": format!("{iss}/certs"),
                                "authorization_endpoint": format!("{iss}/auth"),
                                "token_endpoint": format!("{iss}/token"),
                                "id_token_signing_alg_values_supported": ["EdDSA"],
                            }))
                        }
                    }),
                )
                .route(
                    "/realms/cchc/certs",
                    web::get().to(move || {
                        let keys = keys.lock().unwrap().clone();
                        async move {
                            HttpResponse::Ok().json(
                                json!({"keys": keys.iter().map(|(kid, x)| json!({
                                "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid,
                                "alg": "EdDSA", "use": "sig"
                            })).collect::<Vec<_>>()}),
                            )
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Provider { issuer, published }
    }

    fn token(&self, key: &str, kid: &str, claims: Value) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut all = json!({
            "iss": self.issuer, "aud": AUDIENCE, "iat": now, "nbf": now - 5, "exp": now + 300,
            "preferred_username": "officer.a", "sub": "f7d1c0de"
        });
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, &all, &EncodingKey::from_ed_der(&pkcs8(key))).unwrap()
    }
}

/// A PEM private key's PKCS#8 DER.
fn pkcs8(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[tokio::test]
async fn a_provider_token_signs_in_as_the_account_it_names_and_nothing_else() {
    for backend in backends() {
        let provider = Provider::start().await;
        // The accounts are made through a replica with passwords; people then use the one
        // that takes the provider's tokens and refuses passwords.
        let w = world(TestApp::spawn(backend.clone()).await).await;
        let sso = TestApp::spawn_on(
            backend,
            w.app.database_url.clone(),
            Database::Shared,
            &[
                ("PARINDEX_OIDC_ISSUER", &provider.issuer),
                ("PARINDEX_OIDC_AUDIENCE", AUDIENCE),
                ("PARINDEX_OIDC_REFETCH_SECONDS", "1"),
                ("PARINDEX_LOCAL_LOGIN", "false"),
            ],
        )
        .await;

        let good = provider.token(KEY_A, "key-a", json!({}));
        let me = sso.get("/api/v1/auth/me", &good).await;
        me.assert_status(200);
        assert_eq!(me.json["username"], "officer.a");
        assert_eq!(
            me.json["role"], "unit_officer",
            "the service's role, not the token's"
        );
        let claims_admin = provider.token(
            KEY_A,
            "key-a",
            json!({"role": "admin", "groups": ["admin"]}),
        );
        let still = sso.get("/api/v1/users", &claims_admin).await;
        assert_eq!(
            still.status.as_u16(),
            403,
            "nothing the provider says widens access"
        );

        let expired = chrono::Utc::now().timestamp() - 600;
        for (why, token) in [
            (
                "wrong audience",
                provider.token(KEY_A, "key-a", json!({"aud": "another-app"})),
            ),
            (
                "expired",
                provider.token(KEY_A, "key-a", json!({"exp": expired})),
            ),
            ("unknown key", provider.token(KEY_B, "key-b", json!({}))),
            (
                "signed by another key",
                provider.token(KEY_B, "key-a", json!({})),
            ),
            (
                "unknown user",
                provider.token(KEY_A, "key-a", json!({"preferred_username": "nobody"})),
            ),
            (
                "another issuer",
                provider.token(
                    KEY_A,
                    "key-a",
                    json!({"iss": "https://sso.elsewhere.gov.vn"}),
                ),
            ),
        ] {
            let r = sso.get("/api/v1/auth/me", &token).await;
            assert_eq!(r.status.as_u16(), 401, "{why}: {}", r.text);
        }
        let unknown = sso
            .get(
                "/api/v1/auth/me",
                &provider.token(KEY_A, "key-a", json!({"preferred_username": "nobody"})),
            )
            .await;
        assert!(unknown.text.contains("nobody"), "{}", unknown.text);

        // The provider rotates its key: new tokens work (the key set is fetched again for
        // the unknown key id), tokens of the retired key no longer do.
        *provider.published.lock().unwrap() = vec![("key-b", X_B)];
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let rotated = provider.token(KEY_B, "key-b", json!({}));
        let after = sso.get("/api/v1/auth/me", &rotated).await;
        after.assert_status(200);
        assert_eq!(after.json["username"], "officer.a");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        sso.get("/api/v1/auth/me", &good)
            .await
            .assert_problem(401, None);

        // An inactive account: 401, whatever the provider says.
        let user = w.id("user_officer_a");
        w.app
            .patch(
                &format!("/api/v1/users/{user}"),
                w.admin(),
                &json!({"active": false}),
            )
            .await
            .assert_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        sso.get("/api/v1/auth/me", &rotated)
            .await
            .assert_problem(401, None);

        // Passwords are off there: an officer's is refused (403), the break-glass admin's
        // still works.
        let officer = json!({"username": "officer.b", "password": PASSWORD});
        sso.post("/api/v1/auth/login", "", &officer)
            .await
            .assert_problem(403, None);
        let admin = json!({"username": "admin", "password": ADMIN_PASSWORD});
        sso.post("/api/v1/auth/login", "", &admin)
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn a_provider_answering_a_huge_document_is_unavailable_not_a_crash() {
    for backend in backends() {
        // Whatever answers at the issuer's address sends 2 MiB where a small JSON is due.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = HttpServer::new(|| {
            App::new().default_service(web::to(|| async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(format!(
                        "{{\"jwks_uri\": \"{}\"}}",
                        "x".repeat(2 * 1024 * 1024)
                    ))
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        let app = TestApp::spawn_with(
            backend,
            &[
                ("PARINDEX_OIDC_ISSUER", &issuer),
                ("PARINDEX_OIDC_AUDIENCE", AUDIENCE),
            ],
        )
        .await;
        let provider = Provider {
            issuer: issuer.clone(),
            published: Arc::default(),
        };
        let token = provider.token(KEY_A, "key-a", json!({}));
        let r = app.get("/api/v1/auth/me", &token).await;
        assert_eq!(r.status.as_u16(), 503, "{}", r.text);
        assert!(r.text.contains("identity provider"), "{}", r.text);
    }
}

#[tokio::test]
async fn swagger_ui_offers_the_providers_login_with_pkce() {
    for backend in backends() {
        let issuer = "https://sso.quangtri.gov.vn/realms/cchc";
        let app = TestApp::spawn_with(
            backend,
            &[
                ("PARINDEX_OIDC_ISSUER", issuer),
                ("PARINDEX_OIDC_AUDIENCE", AUDIENCE),
                ("PARINDEX_OIDC_SWAGGER_CLIENT_ID", "parindex-swagger"),
            ],
        )
        .await;
        // The served document names the provider's scheme, accepted wherever a bearer
        // token is (Swagger UI sends its token only where an operation's security says so).
        let doc: Value = app
            .client
            .get(app.url("/api-docs/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["oidc"],
            json!({
                "type": "openIdConnect",
                "openIdConnectUrl": format!("{issuer}/.well-known/openid-configuration"),
                "description": doc["components"]["securitySchemes"]["oidc"]["description"],
            })
        );
        let me = &doc["paths"]["/api/v1/auth/me"]["get"]["security"];
        assert_eq!(me, &json!([{"bearer_auth": []}, {"oidc": []}]));
        // Public operations stay public.
        let login = &doc["paths"]["/api/v1/auth/login"]["post"];
        assert!(
            login
                .get("security")
                .is_none_or(|s| !s.to_string().contains("oidc")),
            "{login}"
        );

        // Swagger UI: the authorization code flow with PKCE, as the public client.
        let init = app
            .client
            .get(app.url("/swagger-ui/swagger-initializer.js"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let oauth = init
            .split_once("ui.initOAuth(")
            .and_then(|(_, rest)| rest.split_once(");"))
            .map(|(config, _)| serde_json::from_str::<Value>(config).unwrap())
            .unwrap_or_else(|| panic!("no initOAuth in {init}"));
        assert_eq!(oauth["clientId"], "parindex-swagger");
        assert_eq!(oauth["usePkceWithAuthorizationCodeGrant"], true);
        assert_eq!(oauth["scopes"], json!(["openid", "profile"]));
        assert!(oauth.get("clientSecret").is_none(), "{oauth}");
        // Its page may read the provider's discovery document and exchange the code there,
        // and nothing else new.
        let page = app
            .client
            .get(app.url("/swagger-ui/"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("connect-src 'self' https://sso.quangtri.gov.vn;"),
            "{csp}"
        );
        let redirect = app
            .client
            .get(app.url("/swagger-ui/oauth2-redirect.html"))
            .send()
            .await
            .unwrap();
        assert_eq!(redirect.status(), 200);
        // Without a provider, the document is the committed one (`docs`).
    }
}
