using Xunit;

namespace Conclave.Testing.Tests;

public sealed class EventuallyTests
{
    [Fact]
    public async Task Returns_once_the_condition_holds()
    {
        var checks = 0;

        await Eventually.Until(() => ++checks == 3, TimeSpan.FromSeconds(5), "the third check succeeds");

        Assert.Equal(3, checks);
    }

    [Fact]
    public async Task Fails_with_the_reason_when_the_deadline_passes()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.Until(() => Task.FromResult(false), TimeSpan.FromMilliseconds(50), "the moon is cheese"));

        Assert.Contains("the moon is cheese", error.Message);
    }
}
