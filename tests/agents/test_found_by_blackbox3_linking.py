"""Linking bugs found by the third black-box pass (bench/eval/cases/blackbox3_*.yaml), end to
end over the evaluation shop, with the cases' sentences and others of our own.

- A long e-mail: the sentence that asks decides which order the action is about; items the
  customer calls fine are never picked; a status question in the same e-mail is answered
  alongside the proposal (the first item mentioned used to win: a wrong refund on "yes").
- One order number written oddly ("no. 37 101", "ORD-37104", full-width digits, "#37-103",
  "37,402") is one order: no "you also mentioned order #37".
- "the dearer one" / "the cheap one" after a list pick by price.
"""

from __future__ import annotations

import pytest

from tests.agents.offline_shop import build_eval_shop, chat, order_row, refund_rows


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    services = build_eval_shop(tmp_path_factory, "blackbox3-linking")
    yield services
    services.close()



RADIO_REFUND = (
    "Dear Sir or Madam, I hope this finds you well. My granddaughter helped me order a few "
    "things from your website last month, a pair of reading glasses, a crossword book and a "
    "little radio for the kitchen. The glasses arrived and they are fine I suppose, although "
    "the case is a bit flimsy. The radio however stopped working after a week, it just crackles "
    "and there is no sound at all, which is a shame because I listen to the cricket. I would "
    "like my money back for the radio please. Also could you tell me when the crossword book "
    "will arrive? Kind regards, Harold Bell")


def test_a_long_email_refunds_the_item_asked_for_and_answers_the_status_question(shop):
    offer, done = chat(shop, 70, RADIO_REFUND, "yes")
    assert (offer["action"], offer["order_id"], offer["action_result"]["status"]) == (
        "issue_refund", "37503", "needs_confirmation"), offer["response"]
    assert "$60.00" in offer["response"] and "940011100037502" in offer["response"]
    assert "37501" not in offer["response"]
    assert done["action_result"]["status"] == "success" and done["order_id"] == "37503"
    assert [r[0] for r in refund_rows(shop, user_id=70)] == ["37503"]


@pytest.mark.parametrize(("user", "text", "action", "order_id", "absent"), [
    (70, "Good morning. I am writing about the radio I bought from you. It worked for about a "
         "week and now it only makes a hissing noise. I have tried new batteries, which my "
         "neighbour kindly fetched for me, and I have tried moving it to the window, but nothing "
         "helps. The reading glasses I ordered at the same time are perfectly fine. Could you "
         "please send me a new radio that works? Many thanks, H. Bell",
     "create_replacement", "37503", "37501"),
    (70, "Hello, my reading glasses are fine, thank you, no complaints there at all. But I "
         "would like to cancel the crossword book please, my daughter already bought me one for "
         "my birthday.", "cancel_order", "37502", "37501"),
    # our own: the first item named is the one said to be fine
    (68, "Hi. I got the kitchen knives and some AA batteries from you last week. The knives "
         "are great, really sharp, no complaints. Sadly the batteries are all dead. I want a "
         "refund for the batteries please.", "issue_refund", "37303", "37301"),
    (67, "Hello! The running shorts fit well and I'm very happy with them. But the running "
         "socks - I don't need them anymore, please cancel the socks.",
     "cancel_order", "37203", "37201"),
])
def test_the_item_asked_about_not_the_one_said_to_be_fine(shop, user, text, action, order_id,
                                                           absent):
    reply = chat(shop, user, text)[0]
    assert (reply["action"], reply["order_id"]) == (action, order_id), reply["response"]
    assert absent not in reply["response"]


def test_our_own_long_email_with_a_status_question(shop):
    reply = chat(shop, 68, "Good afternoon. Last week I got the kitchen knives, which are "
                           "lovely. The AA batteries however were flat when they came. Please "
                           "give me my money back for the batteries. Also, when do you think "
                           "the knife sharpener will be delivered?")[0]
    assert (reply["action"], reply["order_id"]) == ("issue_refund", "37303"), reply["response"]
    assert "37302" in reply["response"] and "37301" not in reply["response"]


@pytest.mark.parametrize(("user", "text", "order_id"), [
    (66, "refund order no. 37 101 please", "37101"),
    (66, "status of ORD-37104?", "37104"),
    (68, "where is order ３７３０２", "37302"),
    (66, "cancel #37-103", "37103"),
    (69, "order 37,402 - cancel it", "37402"),
    (66, "where is my order nr. 37 104?", "37104"),
])
def test_one_order_number_written_oddly_is_one_order(shop, user, text, order_id):
    reply = chat(shop, user, text)[0]
    assert reply["order_id"] == order_id, reply["response"]
    assert "also mentioned" not in reply["response"], reply["response"]


@pytest.mark.parametrize(("words", "order_id"), [
    ("the dearer one", "37301"), ("the pricier one", "37301"), ("the cheap one", "37303"),
    ("the less expensive one", "37303")])
def test_price_words_after_the_list(shop, words, order_id):
    ask, offer = chat(shop, 68, "I want a refund", words)
    assert ask["action_result"]["status"] == "needs_info"
    assert (offer["action"], offer["order_id"], offer["action_result"]["status"]) == (
        "issue_refund", order_id, "needs_confirmation"), offer["response"]
    assert order_row(shop, order_id)["status"] == "delivered"  # only proposed


@pytest.mark.parametrize(("user", "text", "action", "order_id", "also", "absent"), [
    # "it" in the request sentence is the item the sentence before it described
    (70, "I ordered reading glasses, a crossword book and a radio. The radio stopped working "
         "after two days. I would like my money back for it. When will the book arrive?",
     "issue_refund", "37503", "940011100037502", "37501"),
    (70, "Hello. I ordered reading glasses and a radio last month. The glasses are lovely, "
         "thank you. Unfortunately the radio has stopped working. Could you replace it please?",
     "create_replacement", "37503", "#37503", "37501"),
    # no action named anywhere: the one sentence that asks, asks where the book is
    (70, "Good day. I'm writing about my reading glasses and the crossword book. The crossword "
         "book has not turned up yet. The glasses are fine. Regards",
     "get_order_status", "37502", "940011100037502", "37501"),
])
def test_a_long_email_whose_request_points_back_or_only_asks_where(shop, user, text, action,
                                                                    order_id, also, absent):
    reply = chat(shop, user, text)[0]
    assert (reply["action"], reply["order_id"]) == (action, order_id), reply["response"]
    assert also in reply["response"] and absent not in reply["response"], reply["response"]
