using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Conclave.Host.Identity;

/// <summary>Users (ASP.NET Core Identity), the OpenID Connect server (OpenIddict), cookie and bearer sign-in, and the API's guards.</summary>
internal static class IdentityExtensions
{
    /// <summary>The default scheme: the bearer token when the request has one, else the UI's cookie.</summary>
    public const string Scheme = "Conclave";

    public static WebApplicationBuilder AddIdentityAndTrust(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var settings = builder.Configuration.GetSection(ConclaveIdentityOptions.Section).Get<ConclaveIdentityOptions>() ?? new ConclaveIdentityOptions();
        services.AddOptions<ConclaveIdentityOptions>().BindConfiguration(ConclaveIdentityOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        var connectionString = builder.Configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException("ConnectionStrings:Conclave is not set.");
        services.AddDbContext<IdentityDb>(options =>
        {
            options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations", IdentityDb.Schema));
            options.UseOpenIddict();
        });
        // First of all hosted services: the key ring and OpenIddict read the schema it creates.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, IdentityStore>());
        services.AddScoped<Accounts>();
        services.AddScoped<OidcClients>();
        services.AddOptions<SignInThrottleOptions>().BindConfiguration(SignInThrottleOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.HasSaneDurations, $"{SignInThrottleOptions.Section}: AddressWindow, FirstDelay, MaxDelay and FailureWindow must be positive, and FirstDelay at most MaxDelay.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<KnownBrowsers>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<PasswordSignIn>();

        services.AddDataProtection().SetApplicationName("Conclave").PersistKeysToDbContext<IdentityDb>();

        services.AddIdentity<IdentityUser, IdentityRole>(options =>
            {
                options.Password.RequiredLength = 12;
                options.Password.RequireDigit = true;
                options.Password.RequireLowercase = true;
                options.Password.RequireUppercase = true;
                options.Password.RequireNonAlphanumeric = true;
                options.Password.RequiredUniqueChars = 6;
                // Failed passwords never lock an account (a stranger could lock anyone out): the sign-in
                // throttle slows guessing down instead. A lock set on a user (LockoutEnd) still holds.
                options.Lockout.AllowedForNewUsers = true;
                options.User.RequireUniqueEmail = false;
                options.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+";
                options.ClaimsIdentity.UserIdClaimType = ClaimTypes.NameIdentifier;
            })
            .AddEntityFrameworkStores<IdentityDb>()
            .AddDefaultTokenProviders();

        var development = builder.Environment.IsDevelopment() || builder.Environment.IsEnvironment("Testing");
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "conclave.auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Always Secure in production; over plain http://localhost in Development and tests the browser would drop it.
            cookie.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            cookie.LoginPath = "/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/forbidden";
            cookie.ExpireTimeSpan = TimeSpan.FromDays(7);
            cookie.SlidingExpiration = true;
            // The API answers 401/403 (as ProblemDetails), never a redirect to a page.
            cookie.Events.OnRedirectToLogin = context => ApiOr(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => ApiOr(context, StatusCodes.Status403Forbidden);
            // Signing in on the login page redirects to its ReturnUrl by itself: only to a plain local path,
            // never to one a Location header cannot carry (U+3000 made that a 500).
            cookie.Events.OnRedirectToReturnUrl = context =>
            {
                context.Response.Redirect(LocalUrl.OrHome(context.RedirectUri));
                return Task.CompletedTask;
            };
        });
        services.AddAntiforgery(options =>
        {
            options.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            // SecurityHeaders sends X-Frame-Options: DENY (antiforgery's SAMEORIGIN would be weaker).
            options.SuppressXFrameOptionsHeader = true;
        });

        var authentication = services.AddAuthentication(options =>
        {
            options.DefaultScheme = Scheme;
            options.DefaultAuthenticateScheme = Scheme;
            options.DefaultChallengeScheme = Scheme;
            options.DefaultForbidScheme = Scheme;
        })
        .AddPolicyScheme(Scheme, displayName: null, options => options.ForwardDefaultSelector = context =>
            context.Request.HasBearerToken()
                ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
                : IdentityConstants.ApplicationScheme);
        AddExternalLogins(authentication, settings);

        services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityDb>())
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetEndSessionEndpointUris("connect/logout");
                server.AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow();
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, ApiScopes.Read, ApiScopes.Write);
                server.SetAccessTokenLifetime(settings.AccessTokenLifetime)
                    .SetRefreshTokenLifetime(settings.RefreshTokenLifetime)
                    // Rotation without grace: a redeemed refresh token is dead at once (and its reuse revokes the chain).
                    .SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                // S256 only: "plain" PKCE protects nothing against an intercepted code.
                server.Configure(options =>
                {
                    options.CodeChallengeMethods.Clear();
                    options.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
                });
                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough();
                if (settings.AllowHttp || development)
                {
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore();
                // Looks the token up on each request, so a revoked token stops working at once.
                validation.EnableTokenEntryValidation();
            });
        services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<OpenIddict.Server.OpenIddictServerOptions>, ServerKeys>();

        services.AddSingleton<IAuthorizationHandler, ApiScopeHandler>();
        var signedIn = new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(signedIn)
            // Every endpoint needs a signed-in user unless it says [AllowAnonymous] (sign-in pages, OIDC endpoints, health).
            .SetFallbackPolicy(signedIn)
            .AddPolicy(ApiAccess.Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().AddRequirements(new ApiScopeRequirement()))
            .AddPolicy(IdentityStore.AdminRole, policy => policy.AddAuthenticationSchemes(Scheme).RequireRole(IdentityStore.AdminRole));

        services.AddApiRateLimits(builder.Configuration);
        // Provider keys travel in Authorization headers: no HttpClient log line may show any header value.
        services.ConfigureHttpClientDefaults(client => client.RedactLoggedHeaders(_ => true));
        return builder;
    }

    private static Task ApiOr(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.IsApi())
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }

        return Task.CompletedTask;
    }

    /// <summary>Google and GitHub sign-in, each only when its client id and secret are configured.</summary>
    private static void AddExternalLogins(AuthenticationBuilder authentication, ConclaveIdentityOptions settings)
    {
        if (settings.Google.IsConfigured)
        {
            authentication.AddGoogle(ExternalLogins.Google, options =>
            {
                options.ClientId = settings.Google.ClientId!;
                options.ClientSecret = settings.Google.ClientSecret!;
                options.SignInScheme = IdentityConstants.ExternalScheme;
            });
        }

        if (settings.GitHub.IsConfigured)
        {
            authentication.AddOAuth(ExternalLogins.GitHub, "GitHub", options =>
            {
                options.ClientId = settings.GitHub.ClientId!;
                options.ClientSecret = settings.GitHub.ClientSecret!;
                options.SignInScheme = IdentityConstants.ExternalScheme;
                options.CallbackPath = "/signin-github";
                options.AuthorizationEndpoint = "https://github.com/login/oauth/authorize";
                options.TokenEndpoint = "https://github.com/login/oauth/access_token";
                options.UserInformationEndpoint = "https://api.github.com/user";
                options.Scope.Add("read:user");
                options.Scope.Add("user:email");
                options.ClaimActions.MapJsonKey(ClaimTypes.NameIdentifier, "id");
                options.ClaimActions.MapJsonKey(ClaimTypes.Name, "login");
                options.ClaimActions.MapJsonKey(ClaimTypes.Email, "email");
                options.Events.OnCreatingTicket = async context =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, context.Options.UserInformationEndpoint);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
                    request.Headers.UserAgent.ParseAdd("Conclave");
                    using var response = await context.Backchannel.SendAsync(request, context.HttpContext.RequestAborted);
                    response.EnsureSuccessStatusCode();
                    using var user = JsonDocument.Parse(await response.Content.ReadAsStringAsync(context.HttpContext.RequestAborted));
                    context.RunClaimActions(user.RootElement);
                };
            });
        }
    }

    /// <summary>
    /// The guards, in order: headers, how often anyone may try to sign in, who is calling, how often,
    /// may they, and the cookie's antiforgery check.
    /// </summary>
    public static WebApplication UseIdentityAndTrust(this WebApplication app)
    {
        app.Use(SecurityHeaders.AddAsync);
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        // Before authentication: OpenIddict answers token requests with a bad secret or code inside it.
        app.Use(ConnectThrottle.GuardAsync);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.Use(ApiAccess.RequireAntiforgeryForCookieCallsAsync);
        return app;
    }

    public static WebApplication MapIdentityAndTrust(this WebApplication app)
    {
        app.MapConnectEndpoints();
        app.MapAccountEndpoints();
        return app;
    }
}
