import pytest

from packages_app.upload import filenames
from packages_app.upload.errors import UploadError


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("demo\x01-1.0.tar.gz", "Cannot upload a file with non-printable characters (ordinals 0-31)"),
        ("demo\x7f-1.0.tar.gz", "or the DEL character (ordinal 127)"),
        ("../demo-1.0.tar.gz", "Cannot upload a file with '/' or '\\' in the name."),
        ("..\\demo-1.0.tar.gz", "Cannot upload a file with '/' or '\\' in the name."),
        ("d" * 250 + "-1.0.tar.gz", "longer than 255 characters"),
    ],
)
def test_unsafe_names(filename, message):
    with pytest.raises(UploadError) as caught:
        filenames.check_safe(filename)
    assert (caught.value.status, message in caught.value.message) == (400, True)


@pytest.mark.parametrize(
    ("filename", "filetype", "name", "version", "message"),
    [
        ("demo-1.0.tar.gz", "sdist", "demo", "1.0", None),
        ("demo_pkg-1.0.tar.gz", "sdist", "Demo.Pkg", "1.0", None),
        (
            "Demo-1.0.tar.gz",
            "sdist",
            "demo",
            "1.0",
            "Filename 'Demo-1.0.tar.gz' is invalid, should be 'demo-1.0.tar.gz'.",
        ),
        ("demo.tar.gz", "sdist", "demo", "1.0", "Invalid source distribution filename: demo.tar.gz"),
        ("other-1.0.tar.gz", "sdist", "demo", "1.0", "Start filename for 'demo' with 'demo'."),
        ("demo-1.0-py3-none-any.whl", "bdist_wheel", "demo", "1.0", None),
        ("demo-1.0-cp312-cp312-linux_x86_64.whl", "bdist_wheel", "demo", "1.0", None),
        ("demo-1.0-any.whl", "bdist_wheel", "demo", "1.0", "Invalid wheel filename"),
        ("demo-2.0-py3-none-any.whl", "bdist_wheel", "demo", "1.0", "Version in filename should be '1.0' not '2.0'."),
        ("Demo-1.0-py3-none-any.whl", "bdist_wheel", "demo", "1.0", "should contain the normalized project name"),
    ],
)
def test_filename_against_metadata(filename, filetype, name, version, message):
    if message is None:
        filenames.check_matches_metadata(filename, filetype, name, version)
        return
    with pytest.raises(UploadError) as caught:
        filenames.check_matches_metadata(filename, filetype, name, version)
    assert message in caught.value.message
