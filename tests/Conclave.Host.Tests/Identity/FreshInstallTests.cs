using System.Net;
using Conclave.Identity.Contracts;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host with no account yet, registration by invitation.</summary>
public sealed class FreshInstallApp : ConclaveApp
{
    protected override bool FreshInstall => true;

    protected override void AddSettings(IDictionary<string, string> settings) =>
        settings["Conclave:Identity:Registration"] = "Invite";
}

public sealed class FreshInstallTests(FreshInstallApp app) : IClassFixture<FreshInstallApp>
{
    [Fact]
    public async Task The_first_account_becomes_admin_and_later_ones_need_an_invitation()
    {
        using var first = app.CreateCookieClient();
        var login = await first.GetAsync("/login");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.EndsWith("/register", login.Headers.Location!.ToString());

        Assert.Equal(HttpStatusCode.Redirect, (await RegisterAsync(first, "founder", invitation: null)).StatusCode);
        var admin = await first.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("OpenID Connect clients", await admin.Content.ReadAsStringAsync());

        using var uninvited = app.CreateCookieClient();
        var refused = await RegisterAsync(uninvited, "gatecrasher", invitation: null);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("invitation code", await refused.Content.ReadAsStringAsync());

        await using var scope = app.Services.CreateAsyncScope();
        var founder = await scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>().FindByNameAsync("founder");
        var code = await scope.ServiceProvider.GetRequiredService<IAccounts>().CreateInvitationAsync(founder!.Id, CancellationToken.None);
        using var invited = app.CreateCookieClient();
        Assert.Equal(HttpStatusCode.Redirect, (await RegisterAsync(invited, "guest", code)).StatusCode);
        var notForGuests = await invited.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, notForGuests.StatusCode);
        Assert.Equal("/forbidden", notForGuests.Headers.Location!.AbsolutePath);

        using var reused = app.CreateCookieClient();
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(reused, "second-guest", code)).StatusCode);
    }

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient client, string userName, string? invitation)
    {
        var fields = new Dictionary<string, string>
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = ConclaveApp.Password,
            ["Input.ConfirmPassword"] = ConclaveApp.Password,
        };
        if (invitation is not null)
        {
            fields["Input.Invitation"] = invitation;
        }

        return OidcFlow.PostFormAsync(client, "/register", "register", fields);
    }
}
