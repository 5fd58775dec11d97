using System.Security.Claims;
using Conclave.Identity.ApiAccess;
using Conclave.Identity.Contracts;
using Conclave.Identity.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conclave.Identity.Accounts;

/// <summary>Users (ASP.NET Core Identity on <see cref="IdentityDb"/>), the UI's cookie, registration and the sign-in throttle.</summary>
internal static class AccountsConfiguration
{
    public static IServiceCollection AddAccounts(this IServiceCollection services, bool plainHttp)
    {
        services.AddScoped<UserAccounts>();
        services.AddScoped<IAccounts>(sp => sp.GetRequiredService<UserAccounts>());
        services.AddScoped<ISignIn, CookieSignIn>();
        services.AddOptions<SignInThrottleOptions>().BindConfiguration(SignInThrottleOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.HasSaneDurations, $"{SignInThrottleOptions.Section}: AddressWindow, FirstDelay, MaxDelay and FailureWindow must be positive, and FirstDelay at most MaxDelay.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<KnownBrowsers>();
        services.AddSingleton<SignInThrottle>();

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

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "conclave.auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Always Secure in production; over plain http://localhost (Development, tests, AllowHttp) the browser would drop it.
            cookie.Cookie.SecurePolicy = plainHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
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
        return services;
    }

    private static Task ApiOr(RedirectContext<CookieAuthenticationOptions> context, int status)
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
}
