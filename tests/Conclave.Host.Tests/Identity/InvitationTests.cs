using System.Net;
using Conclave.Identity.Contracts;
using Conclave.Identity.Store;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host where registering needs an invitation code.</summary>
public sealed class InvitationOnlyApp : ConclaveApp
{
    protected override void AddSettings(IDictionary<string, string> settings) =>
        settings["Conclave:Identity:Registration"] = "Invite";
}

public sealed class InvitationTests(InvitationOnlyApp app) : IClassFixture<InvitationOnlyApp>
{
    [Fact]
    public async Task Two_concurrent_registrations_with_one_invitation_code_create_one_account()
    {
        for (var round = 0; round < 5; round++)
        {
            var code = await InviteAsync();
            using var first = app.CreateCookieClient();
            using var second = app.CreateCookieClient();
            // Both forms are loaded first, so the two posts race each other and nothing else.
            var firstForm = await RegistrationFormAsync(first, $"twin-a-{round}", code);
            var secondForm = await RegistrationFormAsync(second, $"twin-b-{round}", code);

            var answers = await Task.WhenAll(first.PostAsync("/register", firstForm), second.PostAsync("/register", secondForm));

            Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Redirect);
            var refused = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
            Assert.Contains("valid invitation code", await refused.Content.ReadAsStringAsync());
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityDb>();
            var twins = await db.Users.Where(u => u.UserName == $"twin-a-{round}" || u.UserName == $"twin-b-{round}").ToListAsync();
            var twin = Assert.Single(twins);
            Assert.Equal(twin.Id, (await db.Invitations.SingleAsync(i => i.Code == code)).UsedBy);
        }
    }

    [Fact]
    public async Task A_registration_that_fails_leaves_the_invitation_code_unused()
    {
        var code = await InviteAsync();
        using var browser = app.CreateCookieClient();

        var weak = await browser.PostAsync("/register", await RegistrationFormAsync(browser, "hasty", code, password: "passwordpassword"));
        Assert.Equal(HttpStatusCode.OK, weak.StatusCode);
        var retried = await browser.PostAsync("/register", await RegistrationFormAsync(browser, "hasty", code));

        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        await using var scope = app.Services.CreateAsyncScope();
        var hasty = await scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>().FindByNameAsync("hasty");
        Assert.Equal(hasty!.Id, (await scope.ServiceProvider.GetRequiredService<IdentityDb>().Invitations.SingleAsync(i => i.Code == code)).UsedBy);
    }

    private async Task<string> InviteAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IAccounts>().CreateInvitationAsync(ConclaveApp.DefaultUserId, CancellationToken.None);
    }

    /// <summary>The register page's form, filled in with its antiforgery token, ready to post.</summary>
    private static async Task<FormUrlEncodedContent> RegistrationFormAsync(HttpClient browser, string userName, string code, string password = ConclaveApp.Password)
    {
        var page = await browser.GetStringAsync("/register");
        return new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "register",
            ["__RequestVerificationToken"] = OidcFlow.AntiforgeryToken(page),
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
            ["Input.Invitation"] = code,
        });
    }
}
