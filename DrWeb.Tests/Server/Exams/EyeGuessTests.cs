using DrWeb.Ml.Imaging;
using DrWeb.Server.Exams;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Server.Exams;

public class EyeGuessTests
{
    private static Image<Rgb24> Raw(string name) => Image.Load<Rgb24>(Path.Combine(SharedData.SharedRoot, "data", "fundus-raw-dev", "images", name));

    [Theory]
    [InlineData("178_left.jpeg", EyeSide.Left)]
    [InlineData("178_right.jpeg", EyeSide.Right)]
    [InlineData("670_left.jpeg", EyeSide.Left)]
    [InlineData("670_right.jpeg", EyeSide.Right)]
    public void Raw_photographs_are_guessed_from_the_side_of_their_optic_disc(string file, EyeSide expected)
    {
        using var photograph = Raw(file);
        var guess = EyeGuesser.Guess("upload.jpeg", photograph);
        Assert.Equal(expected, guess.Side);
        Assert.Contains("optic disc", guess.Basis);
    }

    [Fact]
    public void A_label_in_the_file_name_wins_over_the_disc()
    {
        using var left = Raw("178_left.jpeg");
        var guess = EyeGuesser.Guess("patient7_right.jpeg", left);
        Assert.Equal(EyeSide.Right, guess.Side);
        Assert.Equal("the file name says right", guess.Basis);
    }

    [Theory]
    [InlineData("10007_left.jpeg", EyeSide.Left)]
    [InlineData("RIGHT-eye.png", EyeSide.Right)]
    [InlineData("visit 3 OS.jpg", EyeSide.Left)]
    [InlineData("scan_od_2.jpeg", EyeSide.Right)]
    [InlineData("leftover.jpeg", null)]
    [InlineData("godzilla.jpeg", null)]
    [InlineData("left_and_right.jpeg", null)]
    public void Eye_words_count_only_as_whole_words_and_not_when_they_disagree(string file, EyeSide? expected) =>
        Assert.Equal(expected, EyeGuesser.FromFileName(file));

    [Fact]
    public void A_disc_centred_or_featureless_picture_gives_no_side()
    {
        using var grey = new Image<Rgb24>(400, 400, new Rgb24(90, 60, 30));
        var disc = OpticDisc.Locate(grey);
        Assert.True(disc is null || disc.Side is null);
        Assert.Null(EyeGuesser.Guess("upload.jpeg", grey).Side);
    }
}
