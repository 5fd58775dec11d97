using System.Security.Claims;
using Conclave.Identity.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Tests.Identity;

/// <summary>
/// The owner id rule lives in Identity's Contracts (<see cref="Owners"/>) and, for now, again in Sessions'
/// (<see cref="SessionOwner"/>): the two must name the same owner, or a rate limit and a session would
/// disagree about who the caller is.
/// </summary>
public sealed class OwnerIdTests
{
    public static TheoryData<string, string[]> Principals() => new()
    {
        { "the cookie's user", [ClaimTypes.NameIdentifier, "user-1"] },
        { "a bearer token's user", ["sub", "user-1"] },
        { "a client-credentials token", ["sub", Owners.ClientPrefix + "cli"] },
        { "both claims", [ClaimTypes.NameIdentifier, "user-1", "sub", "user-2"] },
    };

    [Theory]
    [MemberData(nameof(Principals))]
    public void Identity_and_sessions_see_the_same_owner(string caller, string[] claims)
    {
        var identity = new ClaimsIdentity(claims.Chunk(2).Select(c => new Claim(c[0], c[1])), "test");
        var user = new ClaimsPrincipal(identity);

        Assert.True(Owners.IdOf(user) == user.OwnerId(), caller);
    }
}
