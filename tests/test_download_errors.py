"""A download of weights that fails (no network: a zoo student's ImageNet
weights, a teacher_ckpt URL) is one sentence naming what was fetched and
the ways around it, not a bare URLError."""
import socket
import urllib.error

from mmmosaic.cli import tool_main, user_error_message

URL = 'https://download.openmmlab.com/mmclassification/v0/mobilenet_v2.pth'


def _fetch():
    # The shape of mmengine's path: load_checkpoint(filename) calls
    # torch.hub's load_state_dict_from_url(url), which raises.
    def load_checkpoint(filename):

        def load_state_dict_from_url(url):
            raise urllib.error.URLError(
                socket.gaierror(-2, 'Name or service not known'))

        return load_state_dict_from_url(URL)

    return load_checkpoint('mmcls://mobilenet_v2')


def test_a_failed_download_names_the_weights(capsys):
    try:
        _fetch()
    except urllib.error.URLError as exc:
        message = user_error_message(exc)
    assert message.startswith(
        f"downloading 'mmcls://mobilenet_v2' ({URL}) failed ([Errno -2] "
        'Name or service not known); connect this machine to the network, '
        'put the file in ')
    assert message.endswith(
        "or do without it: a player's pretrained weights by setting its "
        'pretrained to None (e.g. model.student.pretrained=None), a teacher '
        'by a local model.teacher_ckpt')

    status = tool_main(lambda argv=None: _fetch())([])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith("error: downloading 'mmcls://mobilenet_v2'")


def test_other_url_errors_are_left_alone():
    assert user_error_message(urllib.error.URLError('no frames')) is None
