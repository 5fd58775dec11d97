using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Identity.ExternalLogins;

/// <summary>Google and GitHub sign-in, each only when its client id and secret are configured.</summary>
internal static class ExternalLoginProviders
{
    public const string Google = "Google";
    public const string GitHub = "GitHub";

    public static IServiceCollection AddExternalLogins(this IServiceCollection services, ConclaveIdentityOptions settings)
    {
        var authentication = services.AddAuthentication();
        if (settings.Google.IsConfigured)
        {
            authentication.AddGoogle(Google, options =>
            {
                options.ClientId = settings.Google.ClientId!;
                options.ClientSecret = settings.Google.ClientSecret!;
                options.SignInScheme = IdentityConstants.ExternalScheme;
            });
        }

        if (settings.GitHub.IsConfigured)
        {
            authentication.AddOAuth(GitHub, "GitHub", options =>
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

        return services;
    }
}
